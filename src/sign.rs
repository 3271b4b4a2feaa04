//! TC3-HMAC-SHA256 request signing, as the official Tencent Cloud SDKs do it.
//!
//! Pure functions, one per stage of the spec, so a drift shows up in exactly one test:
//! canonical request → string to sign → signing key → signature → `Authorization`.
//! Spec: <https://www.tencentcloud.com/document/product/267/37447> ("Signature v3").

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = hmac::Hmac<Sha256>;

/// The only algorithm the API accepts for this signature version.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// The official Python and Go SDKs sign exactly these two headers; matching them keeps our
/// requests byte-compatible with what the service sees from every SDK.
pub const SIGNED_HEADERS: &str = "content-type;host";

/// What a request contributes to its signature.
#[derive(Debug, Clone, Copy)]
pub struct SignableRequest<'a> {
    /// The `Content-Type` header exactly as sent on the wire.
    pub content_type: &'a str,
    /// The `Host` header exactly as sent on the wire (with `:port` when not the default).
    pub host: &'a str,
    /// The exact body bytes sent.
    pub payload: &'a [u8],
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac_sha256(key: &[u8], msg: &str) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(msg.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Step 1: the canonical request of a POST to `/`.
pub fn canonical_request(req: &SignableRequest) -> String {
    format!(
        "POST\n/\n\ncontent-type:{}\nhost:{}\n\n{}\n{}",
        req.content_type,
        req.host,
        SIGNED_HEADERS,
        sha256_hex(req.payload)
    )
}

/// The `YYYY-MM-DD` UTC date of a Unix timestamp. Local time would break signing around
/// midnight, which is why the spec insists on UTC.
pub fn utc_date(timestamp: i64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(timestamp)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// `<date>/<service>/tc3_request`.
pub fn credential_scope(timestamp: i64, service: &str) -> String {
    format!("{}/{}/tc3_request", utc_date(timestamp), service)
}

/// Step 2: the string to sign.
pub fn string_to_sign(timestamp: i64, service: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{}\n{}",
        credential_scope(timestamp, service),
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Step 3: the derived key, `HMAC("TC3" + key, date) → service → "tc3_request"`.
pub fn signing_key(secret_key: &str, date: &str, service: &str) -> [u8; 32] {
    let secret_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date);
    let secret_service = hmac_sha256(&secret_date, service);
    hmac_sha256(&secret_service, "tc3_request")
}

/// Step 4: the lowercase hex signature of the string to sign.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(signing_key, string_to_sign))
}

/// The whole chain: the `Authorization` header value for `req`, signed at `timestamp`.
pub fn authorization(
    secret_id: &str,
    secret_key: &str,
    service: &str,
    timestamp: i64,
    req: &SignableRequest,
) -> String {
    let to_sign = string_to_sign(timestamp, service, &canonical_request(req));
    let key = signing_key(secret_key, &utc_date(timestamp), service);
    format!(
        "{ALGORITHM} Credential={secret_id}/{}, SignedHeaders={SIGNED_HEADERS}, Signature={}",
        credential_scope(timestamp, service),
        signature(&key, &to_sign)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tencent's published worked example (CVM DescribeInstances, "EXAMPLE" keys).
    const DOC_PAYLOAD: &str =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    const DOC_TS: i64 = 1551113065;

    fn doc_request() -> SignableRequest<'static> {
        SignableRequest {
            content_type: "application/json; charset=utf-8",
            host: "cvm.tencentcloudapi.com",
            payload: DOC_PAYLOAD.as_bytes(),
        }
    }

    #[test]
    fn empty_payload_hash() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn doc_example_payload_hash() {
        assert_eq!(
            sha256_hex(DOC_PAYLOAD.as_bytes()),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
    }

    #[test]
    fn doc_example_canonical_request() {
        let creq = canonical_request(&doc_request());
        assert_eq!(
            creq,
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            sha256_hex(creq.as_bytes()),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
    }

    #[test]
    fn date_is_utc_not_local() {
        // 2019-02-26 00:44:25 in UTC+8, still the 25th in UTC.
        assert_eq!(utc_date(DOC_TS), "2019-02-25");
        assert_eq!(
            credential_scope(DOC_TS, "cvm"),
            "2019-02-25/cvm/tc3_request"
        );
    }

    #[test]
    fn doc_example_string_to_sign() {
        let sts = string_to_sign(DOC_TS, "cvm", &canonical_request(&doc_request()));
        assert_eq!(
            sts,
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
    }

    #[test]
    fn doc_example_signature_and_header() {
        let auth = authorization(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            "cvm",
            DOC_TS,
            &doc_request(),
        );
        assert_eq!(
            auth,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn masked_key_doc_generation() {
        // The doc generation whose signature was computed with the literal masked key.
        let auth = authorization(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
            "Gu5t9xGARNpq86cd98joQYCN3*******",
            "cvm",
            DOC_TS,
            &doc_request(),
        );
        assert!(auth.ends_with(
            "Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        ));
    }

    #[test]
    fn current_doc_signing_key_stages() {
        // The current doc publishes the intermediate keys for a 32-asterisk secret.
        let key = "*".repeat(32);
        let date = hmac_sha256(format!("TC3{key}").as_bytes(), "2019-02-25");
        assert_eq!(
            hex::encode(date),
            "da98fb70dcf6b112dc21038d1eeeb3a95c74b4dcb12c1131f864f6066bd02be0"
        );
        let service = hmac_sha256(&date, "cvm");
        assert_eq!(
            hex::encode(service),
            "8d70cbefb03939f929db64d32dc2ba89b1095620119fe3e050e2b18c5bd2752f"
        );
        assert_eq!(
            hex::encode(signing_key(&key, "2019-02-25", "cvm")),
            "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af"
        );
    }

    // Vectors produced by the official Python SDK for DTS (reference notes §1.4).
    const SDK_ID: &str = "AKIDEXAMPLEEXAMPLEEXAMPLEEXAMPLE0000";
    const SDK_KEY: &str = "EXAMPLEsecretKEYexampleSECRETkey";

    fn dts_request(payload: &'static str) -> SignableRequest<'static> {
        SignableRequest {
            content_type: "application/json",
            host: "dts.tencentcloudapi.com",
            payload: payload.as_bytes(),
        }
    }

    #[test]
    fn sdk_vector_v1_sdk_serialization() {
        let req = dts_request(r#"{"JobId": "dts-1kl0iy0v"}"#);
        assert_eq!(
            sha256_hex(req.payload),
            "9aee54565e859b352510945e364cd3528543bb518331ac9a567816461a6e1882"
        );
        assert_eq!(
            sha256_hex(canonical_request(&req).as_bytes()),
            "658257c8f31f348445ed3890b7356594515a28b4d064f6bb1d165a3d38919b3a"
        );
        assert_eq!(
            authorization(SDK_ID, SDK_KEY, "dts", 1551113065, &req),
            "TC3-HMAC-SHA256 Credential=AKIDEXAMPLEEXAMPLEEXAMPLEEXAMPLE0000/2019-02-25/dts/tc3_request, SignedHeaders=content-type;host, Signature=ae0d376b71fb7626ae1299dbfd0c24b2e30d7b76b0bdcf0209dd454718e9fb3e"
        );
    }

    #[test]
    fn sdk_vector_v2_token_is_not_signed() {
        let req = dts_request(r#"{"JobId": "dts-1kl0iy0v"}"#);
        assert_eq!(
            authorization(SDK_ID, SDK_KEY, "dts", 1700000000, &req),
            "TC3-HMAC-SHA256 Credential=AKIDEXAMPLEEXAMPLEEXAMPLEEXAMPLE0000/2023-11-14/dts/tc3_request, SignedHeaders=content-type;host, Signature=29204e8c271ea7262699fe968286c39d133135d756c8f14ac910f709171ad1dc"
        );
    }

    #[test]
    fn sdk_vector_v3_compact_json() {
        let req = dts_request(r#"{"JobId":"dts-1kl0iy0v"}"#);
        assert_eq!(
            sha256_hex(req.payload),
            "c7d3ff253b4cb2215b3581205b2148b17572c7b07cacf18f83ff89cf84c90031"
        );
        assert_eq!(
            sha256_hex(canonical_request(&req).as_bytes()),
            "0a685e92f5a0dc0739ec4413f2741512df813215e6122bcf4066ab39818bff0b"
        );
        assert_eq!(
            authorization(SDK_ID, SDK_KEY, "dts", 1700000000, &req),
            "TC3-HMAC-SHA256 Credential=AKIDEXAMPLEEXAMPLEEXAMPLEEXAMPLE0000/2023-11-14/dts/tc3_request, SignedHeaders=content-type;host, Signature=b2006eb4af5ebca7c23c129817c6d5f9947328b6f9321b11bec76040d5a18738"
        );
    }
}
