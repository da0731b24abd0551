//! The admin console's password, the alternative to its access token: set with
//! `usersync serve --set-password` (read from standard input, never from the command line where
//! `ps` shows it), kept as a salted PBKDF2-HMAC-SHA256 hash in `<data dir>/admin-password`
//! (owner-only). Signing in with it gives the page a session token that lasts `SESSION_HOURS`.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ring::pbkdf2;
use ring::rand::SecureRandom;

/// OWASP's figure for PBKDF2-HMAC-SHA256 (Password Storage Cheat Sheet, 2023).
const ITERATIONS: u32 = 600_000;
const ALGORITHM: pbkdf2::Algorithm = pbkdf2::PBKDF2_HMAC_SHA256;
const MIN_LENGTH: usize = 12;
const SESSION_HOURS: u64 = 12;
const FILE: &str = "admin-password";

fn random<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| std::io::Error::other("no random numbers from the operating system"))?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

/// Stores the hash of `password` (its first line, without the line end) in the data directory.
pub fn set(data_dir: &Path, password: &str) -> Result<(), String> {
    let password = password.lines().next().unwrap_or("");
    if password.chars().count() < MIN_LENGTH {
        return Err(format!("the admin password needs at least {MIN_LENGTH} characters"));
    }
    let salt: [u8; 16] = random().map_err(|e| e.to_string())?;
    let mut hash = [0u8; 32];
    let iterations = NonZeroU32::new(ITERATIONS).expect("not zero");
    pbkdf2::derive(ALGORITHM, iterations, &salt, password.as_bytes(), &mut hash);
    let line = format!("pbkdf2-sha256${ITERATIONS}${}${}\n", hex(&salt), hex(&hash));
    usersync::private_file::create_dir(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let file = data_dir.join(FILE);
    usersync::private_file::write(&file, line.as_bytes()).map_err(|e| format!("{}: {e}", file.display()))
}

/// The stored hash, when a password is set: `(iterations, salt, hash)`.
struct Stored {
    iterations: NonZeroU32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn load(data_dir: &Path) -> Option<Stored> {
    let text = std::fs::read_to_string(data_dir.join(FILE)).ok()?;
    let mut parts = text.trim().split('$');
    if parts.next()? != "pbkdf2-sha256" {
        return None;
    }
    let iterations = NonZeroU32::new(parts.next()?.parse().ok()?)?;
    Some(Stored { iterations, salt: unhex(parts.next()?)?, hash: unhex(parts.next()?)? })
}

/// Password sign-in and the sessions it opens.
pub struct Sessions {
    stored: Option<Stored>,
    live: Mutex<HashMap<String, Instant>>,
}

impl Sessions {
    pub fn load(data_dir: &Path) -> Sessions {
        Sessions { stored: load(data_dir), live: Mutex::default() }
    }

    pub fn password_set(&self) -> bool {
        self.stored.is_some()
    }

    /// A new session token for the right password; None otherwise (after a pause that makes
    /// guessing slow).
    pub fn sign_in(&self, password: &str) -> Option<String> {
        let stored = self.stored.as_ref()?;
        let ok = pbkdf2::verify(ALGORITHM, stored.iterations, &stored.salt, password.as_bytes(), &stored.hash).is_ok();
        if !ok {
            std::thread::sleep(Duration::from_millis(500));
            return None;
        }
        let token = hex(&random::<32>().ok()?);
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.retain(|_, until| *until > Instant::now());
        live.insert(token.clone(), Instant::now() + Duration::from_secs(SESSION_HOURS * 3600));
        // A session token is a secret like the access token: no log line carries it.
        usersync::redact::register(&token);
        Some(token)
    }

    /// Whether `token` is a session that has not expired.
    pub fn valid(&self, token: &str) -> bool {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.get(token).is_some_and(|until| *until > Instant::now())
    }
}
