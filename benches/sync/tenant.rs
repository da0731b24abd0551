//! A generated Entra ID tenant in the Graph emulator: realistic attributes, a management tree,
//! photos for one user in twenty, groups with memberships spread over them and some nesting,
//! and the churn of the `delta-churn` phase.

use serde_json::{json, Map, Value};

use crate::graph::{Graph, Group};

#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub users: usize,
    pub groups: usize,
    pub memberships: usize,
    pub photo_bytes: usize,
}

impl Shape {
    /// The sweep's shape for `users`: a group per 100 users, two memberships per user.
    pub fn scaled(users: usize) -> Shape {
        Shape { users, groups: (users / 100).max(1), memberships: users * 2, photo_bytes: 8 * 1024 }
    }

    /// Users with a photo (one in twenty).
    pub fn photos(&self) -> usize {
        self.users.div_ceil(20)
    }
}

/// A small deterministic generator: the same shape always gives the same tenant.
struct Rng(u64);

impl Rng {
    fn next(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound.max(1) as u64) as usize
    }
}

const GIVEN: [&str; 12] =
    ["Ada", "Bram", "Chioma", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kofi", "Lea"];
const SURNAME: [&str; 10] =
    ["Okafor", "Nakamura", "Schmidt", "García", "Novak", "Haddad", "Larsen", "Rossi", "Kowalski", "Dubois"];
const DEPARTMENTS: usize = 40;
const CITIES: [(&str, &str); 5] =
    [("Berlin", "DE"), ("Lisbon", "PT"), ("Toronto", "CA"), ("Singapore", "SG"), ("Austin", "US")];

pub fn user_id(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

/// User `i` as Graph holds it; `#photo` and `#manager` are the emulator's own fields.
pub fn user(i: usize, rng_seed: u64) -> Map<String, Value> {
    let mut rng = Rng(rng_seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let given = GIVEN[rng.next(GIVEN.len())];
    let surname = SURNAME[rng.next(SURNAME.len())];
    let (city, country) = CITIES[rng.next(CITIES.len())];
    let upn = format!("{}.{}{i}@contoso.example", given.to_lowercase(), surname.to_lowercase());
    let mut u = Map::new();
    u.insert("id".into(), json!(user_id(i)));
    u.insert("userPrincipalName".into(), json!(upn));
    u.insert("displayName".into(), json!(format!("{given} {surname}")));
    u.insert("givenName".into(), json!(given));
    u.insert("surname".into(), json!(surname));
    u.insert("mail".into(), json!(upn));
    u.insert("department".into(), json!(format!("Department {}", rng.next(DEPARTMENTS))));
    u.insert("jobTitle".into(), json!(if i % 8 == 0 { "Manager" } else { "Engineer" }));
    u.insert("officeLocation".into(), json!(format!("{city} {}", rng.next(20))));
    u.insert("city".into(), json!(city));
    u.insert("country".into(), json!(country));
    u.insert("employeeId".into(), json!(format!("E{i:07}")));
    u.insert("mobilePhone".into(), json!(format!("+1 555 {:07}", i)));
    u.insert("businessPhones".into(), json!([format!("+1 555 {:07}", i + 1)]));
    // One account in fifty is disabled.
    u.insert("accountEnabled".into(), json!(i % 50 != 7));
    if i % 20 == 0 {
        u.insert("#photo".into(), json!(format!("W/\"photo-{i}-v1\"")));
    }
    // A management tree with eight reports per manager.
    if i > 0 {
        u.insert("#manager".into(), json!(user_id((i - 1) / 8)));
    }
    u
}

/// Fills the emulator with the tenant `shape` describes.
pub fn populate(graph: &Graph, shape: &Shape) {
    let mut s = graph.state.lock().unwrap();
    s.users = (0..shape.users).map(|i| user(i, 7)).collect();
    let mut groups: Vec<Group> = (0..shape.groups)
        .map(|g| Group { id: format!("group-{g:06}"), name: format!("Group {g}"), members: Vec::new(), nested: vec![] })
        .collect();
    let mut rng = Rng(0x5EED);
    for k in 0..shape.memberships {
        let g = rng.next(shape.groups);
        groups[g].members.push(user_id(k % shape.users.max(1)));
    }
    for g in &mut groups {
        g.members.sort();
        g.members.dedup();
    }
    // One group in ten holds another one (nested, flattened by transitive membership).
    let nesting = shape.groups / 10;
    for g in 0..nesting {
        let inner = groups[nesting + g].id.clone();
        groups[g].nested.push(inner);
    }
    s.groups = groups;
    s.photo_bytes = shape.photo_bytes;
    s.reindex();
}

/// What `churn` changed, for the phase's request floor.
#[derive(Debug, Default, Clone, Copy)]
pub struct Churn {
    pub changed: usize,
    pub left: usize,
    pub joined: usize,
    pub photos: usize,
    /// Joiners with a photo (downloaded by the incremental run).
    pub joined_photos: usize,
}

/// 1% of users changed, 0.2% left, 0.2% joined (each into two groups), photos of 0.5% changed.
pub fn churn(graph: &Graph, shape: &Shape) -> Churn {
    let n = shape.users;
    let mut c = Churn { changed: n / 100, left: n / 500, joined: n / 500, photos: n / 200, joined_photos: 0 };
    for k in 0..c.changed {
        let i = 1 + k * 97 % (n - 1);
        graph.change(i, "jobTitle", json!(format!("Senior Engineer {k}")));
    }
    {
        let mut s = graph.state.lock().unwrap();
        for k in 0..c.photos {
            let i = (k * 20 + 40) % n;
            let i = i - i % 20;
            s.users[i].insert("#photo".into(), json!(format!("W/\"photo-{i}-v2\"")));
        }
    }
    for k in 0..c.joined {
        let i = n + k;
        graph.add(i);
        let mut fresh = user(i, 7);
        fresh.remove("#manager");
        let mut s = graph.state.lock().unwrap();
        let last = s.users.len() - 1;
        let version = s.users[last]["#version"].clone();
        fresh.insert("#version".into(), version);
        if fresh.contains_key("#photo") {
            c.joined_photos += 1;
        }
        s.users[last] = fresh;
        drop(s);
        graph.join(last, k % shape.groups);
        graph.join(last, (k * 7 + 3) % shape.groups);
    }
    for k in 0..c.left {
        // From the end of the original users, so positions of the others stay put.
        let i = n - 1 - k * 3;
        graph.remove(i);
    }
    c
}
