//! Tencent Cloud's region ids, to catch a mistyped `TENCENTCLOUD_REGION` before the first
//! request. New regions appear, so an unknown id is only a warning, never an error.

/// The region ids the official Go SDK lists (`tencentcloud/common/regions/regions.go`).
pub const KNOWN: &[&str] = &[
    "ap-bangkok",
    "ap-beijing",
    "ap-chengdu",
    "ap-chongqing",
    "ap-guangzhou",
    "ap-guangzhou-open",
    "ap-hongkong",
    "ap-jakarta",
    "ap-mumbai",
    "ap-nanjing",
    "ap-seoul",
    "ap-shanghai",
    "ap-shanghai-fsi",
    "ap-shenzhen-fsi",
    "ap-singapore",
    "ap-tokyo",
    "eu-frankfurt",
    "eu-moscow",
    "na-ashburn",
    "na-siliconvalley",
    "na-toronto",
    "sa-saopaulo",
];

pub fn is_known(region: &str) -> bool {
    KNOWN.contains(&region)
}

/// The known id nearest to `region` (a few typos away at most), if one is that close.
pub fn nearest(region: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .map(|known| (edit_distance(region, known), *known))
        .min()
        .filter(|(distance, _)| *distance <= 3)
        .map(|(_, known)| known)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_regions_get_no_suggestion() {
        for region in KNOWN {
            assert!(is_known(region), "{region}");
        }
    }

    #[test]
    fn a_typo_gets_the_nearest_known_region() {
        assert!(!is_known("ap-guangzou"));
        assert_eq!(nearest("ap-guangzou"), Some("ap-guangzhou"));
        assert_eq!(nearest("ap-shanghai-fis"), Some("ap-shanghai-fsi"));
        assert_eq!(nearest("eu-frankfur"), Some("eu-frankfurt"));
    }

    #[test]
    fn a_region_far_from_every_known_one_gets_no_guess() {
        assert_eq!(nearest("me-riyadh"), None);
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
