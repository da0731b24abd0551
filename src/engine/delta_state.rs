//! What the engine keeps between incremental rounds: the connector's delta token and the source
//! ids of users that failed in the round that produced it.
//!
//! A round in which some users failed still moves the token on: otherwise one user that keeps
//! failing (a duplicate username, say) would keep every later "incremental" run reading from
//! the same old token, or from none. The failed users are read again by id in the next round
//! instead, until they apply.
//!
//! Both state stores keep one string per connector, so the retry list travels in that string:
//! a token without retries is stored exactly as the connector produced it (the common case, and
//! the format of every token stored before retries existed); one with retries is wrapped in a
//! small JSON object under a key no connector's token uses.

use serde::{Deserialize, Serialize};

/// The wrapper's key, chosen so that no connector's own token (a URL, a timestamp, or Entra's
/// `{"users":..}`) can be mistaken for it.
#[derive(Serialize, Deserialize)]
struct Wrapped {
    #[serde(rename = "usersync.delta")]
    token: String,
    retry: Vec<String>,
}

/// A stored delta state: the connector's token and the ids to read again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct DeltaState {
    pub token: String,
    pub retry: Vec<String>,
}

impl DeltaState {
    pub fn decode(stored: String) -> DeltaState {
        if stored.starts_with('{') {
            if let Ok(w) = serde_json::from_str::<Wrapped>(&stored) {
                return DeltaState { token: w.token, retry: w.retry };
            }
        }
        DeltaState { token: stored, retry: Vec::new() }
    }

    pub fn encode(self) -> String {
        if self.retry.is_empty() {
            return self.token;
        }
        serde_json::to_string(&Wrapped { token: self.token, retry: self.retry }).expect("strings serialise")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_without_retries_is_stored_as_the_connector_made_it() {
        for token in ["https://graph/v1.0/users/delta?$deltatoken=7", r#"{"users":"u","groups":null}"#, "20261201"] {
            let s = DeltaState { token: token.into(), retry: vec![] };
            assert_eq!(s.clone().encode(), token);
            assert_eq!(DeltaState::decode(token.into()), s, "an older stored token reads back unchanged");
        }
    }

    #[test]
    fn retries_travel_with_the_token() {
        let s = DeltaState { token: r#"{"users":"u"}"#.into(), retry: vec!["id-1".into(), "id-2".into()] };
        let stored = s.clone().encode();
        assert_ne!(stored, s.token);
        assert_eq!(DeltaState::decode(stored), s);
    }
}
