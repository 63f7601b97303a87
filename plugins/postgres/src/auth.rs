//! Password authentication: PostgreSQL's MD5 hash and the client side of SCRAM-SHA-256
//! (RFC 5802 with SHA-256, RFC 7677), without channel binding.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use md5::{Digest as _, Md5};
use sha2::Sha256;

/// The SASL mechanism this check speaks.
pub const SCRAM_SHA_256: &str = "SCRAM-SHA-256";

/// Most PBKDF2 iterations a server may ask for: PostgreSQL uses 4096 by default, and a
/// count far above it would spend the check's time on hashing instead of checking.
const MAX_ITERATIONS: u32 = 1_000_000;

/// The PasswordMessage text for MD5 authentication:
/// `"md5" + hex(md5(hex(md5(password + user)) + salt))`.
pub fn md5_password(user: &str, password: &str, salt: &[u8]) -> String {
    let inner = hex(&Md5::new().chain_update(password).chain_update(user).finalize());
    format!("md5{}", hex(&Md5::new().chain_update(inner).chain_update(salt).finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh client nonce: 18 random bytes in base64 (printable, without a comma).
#[cfg(not(test))]
pub fn client_nonce() -> Result<String, String> {
    let mut bytes = [0u8; 18];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no random bytes for the SCRAM nonce: {e}"))?;
    Ok(BASE64.encode(bytes))
}

/// The nonce of RFC 7677's example, so that the native cases can replay a SCRAM exchange.
#[cfg(test)]
pub fn client_nonce() -> Result<String, String> {
    Ok("rOprNGfwEbeRWgbNEkqO".to_string())
}

/// One SCRAM-SHA-256 exchange, from the client's first message to the check of the
/// server's signature.
#[derive(Debug)]
pub struct Scram {
    /// The client's nonce.
    nonce: String,
    /// `n=<user>,r=<nonce>`, part of the signed AuthMessage.
    first_bare: String,
    /// The server's key and the AuthMessage, once the client's final message was made.
    server_key: Option<([u8; 32], String)>,
}

impl Scram {
    /// Starts an exchange for `user` (PostgreSQL ignores it and takes the StartupMessage's:
    /// the check sends an empty one, as libpq does) with the client nonce `nonce`.
    pub fn new(user: &str, nonce: &str) -> Scram {
        let user = user.replace('=', "=3D").replace(',', "=2C");
        Scram { nonce: nonce.to_string(), first_bare: format!("n={user},r={nonce}"), server_key: None }
    }

    /// The client-first-message: no channel binding (`n,,`), then the bare part.
    pub fn client_first(&self) -> String {
        format!("n,,{}", self.first_bare)
    }

    /// The client-final-message answering `server_first` (`r=…,s=…,i=…`), with the proof
    /// that the client knows `password`.
    pub fn client_final(&mut self, password: &str, server_first: &str) -> Result<String, String> {
        let (mut nonce, mut salt, mut iterations) = (None, None, None);
        for attribute in server_first.split(',') {
            match attribute.split_once('=') {
                Some(("r", value)) => nonce = Some(value),
                Some(("s", value)) => salt = Some(value),
                Some(("i", value)) => iterations = Some(value),
                Some(("m", _)) => return Err("the server requires a SCRAM extension this check does not know".into()),
                _ => {}
            }
        }
        let nonce = nonce.ok_or("the server's SCRAM message has no nonce")?;
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err("the server's SCRAM nonce does not extend the client's".into());
        }
        let salt = BASE64
            .decode(salt.ok_or("the server's SCRAM message has no salt")?)
            .map_err(|_| "the server's SCRAM salt is not base64")?;
        let iterations = iterations
            .and_then(|i| i.parse::<u32>().ok())
            .filter(|i| (1..=MAX_ITERATIONS).contains(i))
            .ok_or(format!("the server's SCRAM iteration count is missing or not in 1..={MAX_ITERATIONS}"))?;
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2::<Hmac<Sha256>>(password.as_bytes(), &salt, iterations, &mut salted)
            .map_err(|_| "PBKDF2 refused its key length".to_string())?;
        let client_key = hmac(&salted, b"Client Key");
        let stored_key: [u8; 32] = Sha256::digest(client_key).into();
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.first_bare);
        let signature = hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(signature).map(|(k, s)| k ^ s).collect();
        self.server_key = Some((hmac(&salted, b"Server Key"), auth_message));
        Ok(format!("{without_proof},p={}", BASE64.encode(proof)))
    }

    /// Checks the server-final-message (`v=<signature>`): a server that does not know the
    /// password cannot sign the exchange.
    pub fn verify_server(&self, server_final: &str) -> Result<(), String> {
        let (server_key, auth_message) = self.server_key.as_ref().ok_or("the server ended SCRAM before the proof")?;
        if let Some(error) = server_final.strip_prefix("e=") {
            return Err(format!("the server refused the SCRAM proof: {}", vitals_sdk::sanitize(error, 80)));
        }
        let signature = server_final
            .split(',')
            .find_map(|attribute| attribute.strip_prefix("v="))
            .and_then(|v| BASE64.decode(v).ok())
            .ok_or("the server's final SCRAM message has no signature")?;
        let mut mac = Hmac::<Sha256>::new_from_slice(server_key).map_err(|_| "HMAC refused its key".to_string())?;
        mac.update(auth_message.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| "the server's SCRAM signature is wrong: it does not know the password".to_string())
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length, so this never fails.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677, section 3: user "user", password "pencil".
    #[test]
    fn rfc_7677_exchange() {
        let mut scram = Scram::new("user", "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(scram.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        assert_eq!(
            scram.client_final("pencil", server_first),
            Ok("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
                .to_string())
        );
        assert_eq!(scram.verify_server("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="), Ok(()));
        assert!(scram.verify_server("v=AAAATRBi23WpRR/wtup+mMhUZUn/dBEnOAJ8hGxMpxI=").is_err());
        assert!(scram.verify_server("e=invalid-proof").is_err_and(|e| e.contains("invalid-proof")));
    }

    #[test]
    fn bad_server_first_messages() {
        for bad in [
            "r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "r=abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "r=abcdef,s=***,i=4096",
            "r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0",
            "r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999",
            "r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==",
            "m=ext,r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        ] {
            assert!(Scram::new("", "abc").client_final("pw", bad).is_err(), "{bad}");
        }
        assert!(Scram::new("", "abc").verify_server("v=xyz").is_err(), "a signature before the proof");
        assert_eq!(Scram::new("a=b,c", "n").client_first(), "n,,n=a=3Db=2Cc,r=n");
    }

    #[test]
    fn md5_hash() {
        // SELECT 'md5' || md5(md5('secret' || 'app') || 'salt') in PostgreSQL.
        assert_eq!(md5_password("app", "secret", b"salt"), "md57f097e06031b34893c20e25a0e68242c");
    }
}
