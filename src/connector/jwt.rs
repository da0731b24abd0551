//! RS256 JSON Web Tokens for the providers that authenticate with a private key (Google's
//! service accounts, Okta's `private_key_jwt`). The key never appears in an error.

use base64::Engine as _;
use serde_json::Value;

pub struct Signer {
    key: ring::signature::RsaKeyPair,
}

impl Signer {
    /// From a PEM "PRIVATE KEY" (PKCS#8). `what` names the key in errors ("the private_key in
    /// key.json").
    pub fn from_pem(pem: &str, what: &str) -> Result<Signer, String> {
        let der = ureq::tls::parse_pem(pem.as_bytes())
            .find_map(|item| match item {
                Ok(ureq::tls::PemItem::PrivateKey(k)) => Some(k.der().to_vec()),
                _ => None,
            })
            .ok_or_else(|| format!("{what} is not a PEM private key"))?;
        let key =
            ring::signature::RsaKeyPair::from_pkcs8(&der).map_err(|_| format!("{what} is not an RSA PKCS#8 key"))?;
        Ok(Signer { key })
    }

    /// `header.claims.signature`, signed with RS256.
    pub fn sign(&self, claims: &Value) -> Result<String, String> {
        let header = b64(br#"{"alg":"RS256","typ":"JWT"}"#);
        let input = format!("{header}.{}", b64(claims.to_string().as_bytes()));
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "could not sign the token request".to_string())?;
        Ok(format!("{input}.{}", b64(&signature)))
    }
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
