//! The profile files Tencent Cloud tools already keep keys in: the SDKs' INI file
//! (`[default]`, `secret_id`, `secret_key`) and tccli's JSON profile (`secretId`, `secretKey`,
//! `token`). Pure parsers: the caller reads the files.

use crate::api::Credentials;

/// The `[default]` section's keys of an SDK credentials file; `Err` names what is missing.
pub fn parse_ini(text: &str) -> Result<Credentials, String> {
    let mut section = String::new();
    let (mut id, mut key, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        if section != "default" {
            continue;
        }
        if let Some((name, value)) = line.split_once('=') {
            let value = Some(value.trim().to_string()).filter(|v| !v.is_empty());
            match name.trim() {
                "secret_id" => id = value,
                "secret_key" => key = value,
                "token" => token = value,
                _ => {}
            }
        }
    }
    match (id, key) {
        (Some(secret_id), Some(secret_key)) => Ok(Credentials {
            secret_id,
            secret_key,
            token,
        }),
        _ => Err("has no secret_id and secret_key in its [default] section".into()),
    }
}

/// A tccli profile (`~/.tccli/<profile>.credential`).
pub fn parse_tccli(text: &str) -> Result<Credentials, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| "is not a JSON object".to_string())?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    match (field("secretId"), field("secretKey")) {
        (Some(secret_id), Some(secret_key)) => Ok(Credentials {
            secret_id,
            secret_key,
            token: field("token"),
        }),
        _ => Err("has no secretId and secretKey".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_section_of_an_sdk_file() {
        let c = parse_ini(
            "# keys\n[other]\nsecret_id = AKIDother\nsecret_key = other\n\n[default]\nsecret_id = AKIDini\nsecret_key=ini-key \n",
        )
        .unwrap();
        assert_eq!(
            (c.secret_id.as_str(), c.secret_key.as_str()),
            ("AKIDini", "ini-key")
        );
        assert_eq!(c.token, None);
        assert!(parse_ini("[other]\nsecret_id = a\nsecret_key = b\n").is_err());
        assert!(parse_ini("[default]\nsecret_id = a\n").is_err());
    }

    #[test]
    fn a_tccli_profile() {
        let c = parse_tccli(r#"{"secretId": "AKIDcli", "secretKey": "cli-key", "token": "", "region": "ap-guangzhou"}"#).unwrap();
        assert_eq!((c.secret_id.as_str(), c.token), ("AKIDcli", None));
        let c =
            parse_tccli(r#"{"secretId": "AKIDcli", "secretKey": "k", "token": "t0k"}"#).unwrap();
        assert_eq!(c.token.as_deref(), Some("t0k"));
        assert!(parse_tccli(r#"{"secretId": "AKIDcli"}"#).is_err());
        assert!(parse_tccli("secretId=x").is_err());
    }
}
