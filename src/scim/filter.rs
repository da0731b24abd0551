//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): parsed into a small tree and
//! evaluated against a resource's JSON. Operators and attribute names are case-insensitive;
//! precedence is `not`, then `and`, then `or`; values are JSON literals.

use serde_json::Value;

use super::schema;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Lt,
    Ge,
    Le,
}

/// `[urn:]name[.sub]`; `urn` is empty for the resource's core schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    pub urn: String,
    pub name: String,
    pub sub: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare(AttrPath, Op, Value),
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work"]`: some value of the multi-valued attribute matches.
    Values(AttrPath, Box<Filter>),
}

/// A PATCH operation's target: an attribute, or the values of a multi-valued one a filter
/// selects, optionally one sub-attribute of those (`emails[type eq "work"].value`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    pub sub: Option<String>,
}

/// The longest filter parsed; IdPs send short ones.
const MAX_FILTER: usize = 4096;
const MAX_DEPTH: usize = 32;

struct Parser<'a> {
    s: &'a str,
    at: usize,
    depth: usize,
}

pub fn parse(text: &str) -> Result<Filter, String> {
    if text.len() > MAX_FILTER {
        return Err(format!("the filter is longer than {MAX_FILTER} characters"));
    }
    let mut p = Parser { s: text, at: 0, depth: 0 };
    let f = p.or()?;
    p.space();
    if p.at < p.s.len() {
        return Err(format!("unexpected '{}' at position {}", p.rest_word(), p.at + 1));
    }
    Ok(f)
}

pub fn parse_path(text: &str) -> Result<PatchPath, String> {
    if text.len() > MAX_FILTER {
        return Err(format!("the path is longer than {MAX_FILTER} characters"));
    }
    let mut p = Parser { s: text, at: 0, depth: 0 };
    p.space();
    let attr = p.attr_path()?;
    let mut path = PatchPath { attr, filter: None, sub: None };
    if p.eat("[") {
        if path.attr.sub.is_some() {
            return Err("a value filter follows an attribute, not a sub-attribute".into());
        }
        path.filter = Some(p.or()?);
        p.space();
        if !p.eat("]") {
            return Err(format!("expected ']' at position {}", p.at + 1));
        }
        if p.eat(".") {
            path.sub = Some(p.name()?);
        }
    }
    p.space();
    if p.at < p.s.len() {
        return Err(format!("unexpected '{}' at position {}", p.rest_word(), p.at + 1));
    }
    Ok(path)
}

impl Parser<'_> {
    fn space(&mut self) {
        while self.s[self.at..].starts_with(' ') {
            self.at += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.s[self.at..].starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn rest_word(&self) -> String {
        self.s[self.at..].chars().take(20).collect()
    }

    /// A keyword followed by a space or a parenthesis, case-insensitively.
    fn keyword(&mut self, word: &str) -> bool {
        self.space();
        let rest = &self.s[self.at..];
        let n = word.len();
        let matches = rest.len() >= n
            && rest.is_char_boundary(n)
            && rest[..n].eq_ignore_ascii_case(word)
            && rest[n..].starts_with([' ', '(']);
        if matches {
            self.at += n;
        }
        matches
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("the filter nests deeper than {MAX_DEPTH}"));
        }
        self.space();
        let out = if self.keyword("not") {
            self.space();
            if !self.eat("(") {
                return Err(format!("'not' needs a parenthesis at position {}", self.at + 1));
            }
            Filter::Not(Box::new(self.group()?))
        } else if self.eat("(") {
            self.group()?
        } else {
            self.attr_expression()?
        };
        self.depth -= 1;
        Ok(out)
    }

    fn group(&mut self) -> Result<Filter, String> {
        let f = self.or()?;
        self.space();
        if !self.eat(")") {
            return Err(format!("expected ')' at position {}", self.at + 1));
        }
        Ok(f)
    }

    fn attr_expression(&mut self) -> Result<Filter, String> {
        let path = self.attr_path()?;
        if self.eat("[") {
            let inner = self.or()?;
            self.space();
            if !self.eat("]") {
                return Err(format!("expected ']' at position {}", self.at + 1));
            }
            return Ok(Filter::Values(path, Box::new(inner)));
        }
        self.space();
        let start = self.at;
        let word: String = self.s[self.at..].chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        self.at += word.len();
        let op = match word.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present(path)),
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "lt" => Op::Lt,
            "ge" => Op::Ge,
            "le" => Op::Le,
            "" => return Err(format!("expected an operator at position {}", start + 1)),
            other => return Err(format!("unknown operator '{other}' at position {}", start + 1)),
        };
        self.space();
        let value = self.value()?;
        Ok(Filter::Compare(path, op, value))
    }

    fn value(&mut self) -> Result<Value, String> {
        let rest = &self.s[self.at..];
        if rest.starts_with('"') {
            // A JSON string: find its end, honouring escapes.
            let mut escaped = false;
            for (i, c) in rest.char_indices().skip(1) {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        let text = &rest[..=i];
                        self.at += i + 1;
                        return serde_json::from_str(text).map_err(|e| format!("invalid string {text}: {e}"));
                    }
                    _ => escaped = false,
                }
            }
            return Err("a string value is not closed".into());
        }
        let word: String = rest.chars().take_while(|c| !matches!(c, ' ' | ')' | ']')).collect();
        self.at += word.len();
        match word.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            "null" => Ok(Value::Null),
            "" => Err(format!("expected a value at position {}", self.at + 1)),
            _ => serde_json::from_str::<serde_json::Number>(&word)
                .map(Value::Number)
                .map_err(|_| format!("'{word}' is not a value (strings are quoted)")),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let rest = &self.s[self.at..];
        let n: usize = rest
            .char_indices()
            .take_while(|(i, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || (*c == '$' && *i == 0))
            .map(|(_, c)| c.len_utf8())
            .sum();
        if n == 0 || !rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '$') {
            return Err(format!("expected an attribute name at position {}", self.at + 1));
        }
        self.at += n;
        Ok(rest[..n].to_string())
    }

    /// `[URI ":"] ATTRNAME *1subAttr`, where the URI is a schema's (it ends before the last ':').
    fn attr_path(&mut self) -> Result<AttrPath, String> {
        let rest = &self.s[self.at..];
        let mut urn = String::new();
        if rest.len() >= 4 && rest[..4].eq_ignore_ascii_case("urn:") {
            let end = rest.find([' ', '[', ')', ']']).unwrap_or(rest.len());
            let full = &rest[..end];
            // An extension's URI alone names its whole object (a PATCH that adds or removes it).
            if schema::is_extension(full) {
                self.at += end;
                return Ok(AttrPath { urn: String::new(), name: full.to_string(), sub: None });
            }
            // The attribute follows the schema URI's last ':'; a dot after that is a sub-attribute.
            let Some(colon) = full.rfind(':') else { return Err("an attribute URI without a name".into()) };
            urn = full[..colon].to_string();
            self.at += colon + 1;
        }
        let name = self.name()?;
        let sub = if self.s[self.at..].starts_with('.') && !self.s[self.at + 1..].starts_with(['[', ' ']) {
            self.at += 1;
            Some(self.name()?)
        } else {
            None
        };
        Ok(AttrPath { urn, name, sub })
    }
}

/// The object an attribute path starts in: the resource itself for its core schema, else the
/// extension's object.
fn container<'v>(resource: &'v Value, urn: &str) -> Option<&'v Value> {
    if urn.is_empty() || schema::is_core(urn) {
        Some(resource)
    } else {
        get(resource, urn)
    }
}

/// A key of an object, case-insensitively (attribute names are, RFC 7643 §2.1).
pub fn get<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    let obj = v.as_object()?;
    obj.get(name).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// The values an attribute path reaches (several for a multi-valued attribute).
pub fn values<'v>(resource: &'v Value, path: &AttrPath) -> Vec<&'v Value> {
    let Some(top) = container(resource, &path.urn).and_then(|c| get(c, &path.name)) else { return Vec::new() };
    let items: Vec<&Value> = match top {
        Value::Array(items) => items.iter().collect(),
        v => vec![v],
    };
    match &path.sub {
        None => items,
        Some(sub) => items.into_iter().filter_map(|i| get(i, sub)).collect(),
    }
}

pub fn matches(resource: &Value, f: &Filter) -> bool {
    match f {
        Filter::And(a, b) => matches(resource, a) && matches(resource, b),
        Filter::Or(a, b) => matches(resource, a) || matches(resource, b),
        Filter::Not(a) => !matches(resource, a),
        Filter::Present(path) => values(resource, path).iter().any(|v| present(v)),
        // `eq null` holds for an attribute without a value, `ne null` for one with.
        Filter::Compare(path, op @ (Op::Eq | Op::Ne), Value::Null) => {
            let any = values(resource, path).iter().any(|v| present(v));
            (*op == Op::Ne) == any
        }
        Filter::Compare(path, op, want) => {
            let exact = schema::case_exact(&path.name, path.sub.as_deref());
            let found = values(resource, path);
            match op {
                // `ne` holds when no value equals (an absent attribute is not equal).
                Op::Ne => !found.iter().any(|v| compare(v, Op::Eq, want, exact)),
                _ => found.iter().any(|v| compare(v, *op, want, exact)),
            }
        }
        Filter::Values(path, inner) => {
            let Some(top) = container(resource, &path.urn).and_then(|c| get(c, &path.name)) else { return false };
            match top {
                Value::Array(items) => items.iter().any(|i| matches(i, inner)),
                other => matches(other, inner),
            }
        }
    }
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn compare(have: &Value, op: Op, want: &Value, exact: bool) -> bool {
    match (have, want) {
        (Value::String(h), Value::String(w)) => {
            let (h, w) = if exact { (h.clone(), w.clone()) } else { (h.to_lowercase(), w.to_lowercase()) };
            // Timestamps compare as times, whatever their precision.
            let times = (chrono::DateTime::parse_from_rfc3339(&h), chrono::DateTime::parse_from_rfc3339(&w));
            let order = match times {
                (Ok(a), Ok(b)) => a.cmp(&b),
                _ => h.cmp(&w),
            };
            match op {
                Op::Eq => order.is_eq(),
                Op::Ne => order.is_ne(),
                Op::Co => h.contains(&w),
                Op::Sw => h.starts_with(&w),
                Op::Ew => h.ends_with(&w),
                Op::Gt => order.is_gt(),
                Op::Lt => order.is_lt(),
                Op::Ge => order.is_ge(),
                Op::Le => order.is_le(),
            }
        }
        (Value::Number(h), Value::Number(w)) => {
            let (Some(h), Some(w)) = (h.as_f64(), w.as_f64()) else { return false };
            match op {
                Op::Eq => h == w,
                Op::Ne => h != w,
                Op::Gt => h > w,
                Op::Lt => h < w,
                Op::Ge => h >= w,
                Op::Le => h <= w,
                _ => false,
            }
        }
        (Value::Bool(h), Value::Bool(w)) => match op {
            Op::Eq => h == w,
            Op::Ne => h != w,
            _ => false,
        },
        // Booleans some clients send as text.
        (Value::Bool(h), Value::String(w)) if matches!(op, Op::Eq | Op::Ne) => {
            let same = w.eq_ignore_ascii_case(if *h { "true" } else { "false" });
            (op == Op::Eq) == same
        }
        (_, Value::Null) => match op {
            Op::Eq => !present(have),
            Op::Ne => present(have),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_parse_and_match() {
        let u = json!({
            "id": "A1", "userName": "Bjensen", "active": true, "meta": { "lastModified": "2026-01-02T03:04:05Z" },
            "emails": [{ "value": "b@work.example", "type": "work" }, { "value": "b@home.example", "type": "home" }],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "employeeNumber": "701984" }
        });
        let yes = [
            r#"userName eq "bjensen""#,
            r#"USERNAME Eq "BJENSEN""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bj""#,
            r#"emails.value co "home""#,
            r#"emails[type eq "work" and value ew "work.example"]"#,
            r#"title pr or userName pr"#,
            r#"not (active eq false)"#,
            r#"meta.lastModified gt "2026-01-01T00:00:00.000Z""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
            r#"(userName eq "x" or id eq "A1") and active eq true"#,
            r#"title eq null"#,
            r#"userName ne "other""#,
        ];
        for f in yes {
            assert!(matches(&u, &parse(f).unwrap_or_else(|e| panic!("{f}: {e}"))), "{f}");
        }
        let no =
            [r#"id eq "a1""#, r#"emails[type eq "other"]"#, r#"title pr"#, r#"userName eq "x" and active eq true"#];
        for f in no {
            assert!(!matches(&u, &parse(f).unwrap()), "{f}");
        }
        for bad in
            ["userName", r#"userName zz "x""#, r#"userName eq x"#, r#"(userName eq "x""#, r#"userName eq "x" and"#]
        {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let p = parse_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!((p.attr.name.as_str(), p.sub.as_deref()), ("emails", Some("value")));
        let p = parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value").unwrap();
        assert_eq!(p.attr.urn, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
        assert_eq!((p.attr.name.as_str(), p.attr.sub.as_deref()), ("manager", Some("value")));
    }
}
