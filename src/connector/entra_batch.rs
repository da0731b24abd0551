//! Graph JSON batching (`POST /v1.0/$batch`, learn.microsoft.com/graph/json-batching): up to 20
//! GET sub-requests a request, each answered with its own status, headers and body. Photo
//! metadata for every user and the incremental rounds' completions go through here.
//!
//! Bodies are read into the type the caller needs, not into a JSON tree first: a sync of
//! 100,000 users reads 5,000 batch answers of 20 photo answers each, and building, cloning and
//! dropping a JSON tree of each was a sixth of its CPU.

use crate::fastmap::FastMap as HashMap;
use std::fmt;
use std::time::Duration;

use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::entra::{EntraConnector, BATCH};
use super::http::{read_json, retry_after, HttpError, Request};
use crate::model::SourceUser;

/// One GET sub-request. Its `id` is unique within its batch; `url` is relative to `/v1.0`.
#[derive(Debug, Clone, Serialize)]
pub(super) struct SubRequest {
    pub id: String,
    method: &'static str,
    pub url: String,
}

impl SubRequest {
    pub fn get(id: impl Into<String>, url: String) -> Self {
        SubRequest { id: id.into(), method: "GET", url }
    }
}

/// Sub-request answers of one `$batch`: (status, body) by sub-request id.
pub(super) type Answers<B = Value> = HashMap<String, (u16, B)>;

/// A batch answer as Graph sends it: `{"responses": [{"id", "status", "headers", "body"}]}`.
#[derive(Deserialize)]
#[serde(bound = "B: DeserializeOwned + Default")]
pub(super) struct Reply<B> {
    #[serde(default = "Vec::new")]
    responses: Vec<SubReply<B>>,
}

#[derive(Deserialize)]
#[serde(bound = "B: DeserializeOwned + Default")]
struct SubReply<B> {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    status: u16,
    #[serde(default)]
    headers: RetryAfterHeader,
    #[serde(default)]
    body: B,
}

/// Of a sub-response's headers, `Retry-After` alone (Graph's header names there vary in case),
/// as text. The others are skipped as read, not kept in a map of their own for each answer.
#[derive(Default, Debug, PartialEq)]
struct RetryAfterHeader(Option<String>);

impl<'de> Deserialize<'de> for RetryAfterHeader {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RetryAfterHeader;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sub-response's headers")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<RetryAfterHeader, A::Error> {
                let mut found = RetryAfterHeader(None);
                while let Some(name) = access.next_key::<std::borrow::Cow<'de, str>>()? {
                    if found.0.is_none() && name.eq_ignore_ascii_case("Retry-After") {
                        if let Value::String(v) = access.next_value::<Value>()? {
                            found.0 = Some(v);
                        }
                    } else {
                        access.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(found)
            }

            fn visit_unit<E>(self) -> Result<RetryAfterHeader, E> {
                Ok(RetryAfterHeader(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// An answer while throttled sub-requests may still be sent again.
struct Sub<B> {
    status: u16,
    /// The sub-request's own `Retry-After`, in seconds, when it was throttled.
    retry_after: Option<Duration>,
    body: B,
}

/// A throttling status a sub-request may answer with, to be sent again after its wait.
fn throttled(status: u16) -> bool {
    matches!(status, 429 | 503 | 504)
}

/// A batch answer's sub-answers by id, each throttled one with the wait it asked for.
fn subs<B>(reply: Reply<B>) -> HashMap<String, Sub<B>> {
    let each = reply.responses.into_iter().filter_map(|r| {
        let retry_after = if throttled(r.status) { r.headers.0.as_deref().and_then(retry_after) } else { None };
        Some((r.id?, Sub { status: r.status, retry_after, body: r.body }))
    });
    each.collect()
}

/// A `$batch` answer's bytes read as `batches` reads them, for photo metadata and for JSON
/// bodies (the fuzzer's entry point): the sub-answers' statuses and etags, and the successful
/// JSON bodies.
pub(super) fn read_answers(body: &[u8]) -> (Vec<(u16, Option<String>)>, Vec<Value>) {
    let photos = read_json::<Reply<PhotoMeta>>(body).map(subs).unwrap_or_default();
    let photos = photos.into_values().map(|s| (s.status, s.body.etag)).collect();
    let values = read_json::<Reply<Value>>(body).map(subs).unwrap_or_default();
    (photos, values.into_values().filter(|s| s.status == 200).map(|s| s.body).collect())
}

#[derive(Serialize)]
struct Body<'a> {
    requests: &'a [SubRequest],
}

impl Body<'_> {
    /// The batch as JSON, written into a buffer sized for it first (one allocation a batch;
    /// measured, it saved little: most of the cost is serde's per-string path).
    fn text(&self) -> String {
        let size = 16 + self.requests.iter().map(|r| 40 + r.id.len() + r.url.len()).sum::<usize>();
        let mut out = Vec::with_capacity(size);
        serde_json::to_writer(&mut out, self).expect("sub-requests serialise");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }
}

impl EntraConnector {
    /// One `$batch` request (at most 20 sub-requests): each answer as (status, body) by id.
    pub(super) fn batch<B: DeserializeOwned + Default + Send + 'static>(
        &self,
        requests: Vec<SubRequest>,
    ) -> Result<Answers<B>, HttpError> {
        Ok(self.batches(vec![requests])?.pop().unwrap_or_default())
    }

    /// Several `$batch` requests, `http.concurrency` at a time; answers in order. Graph judges
    /// each sub-request against its throttling limits on its own: a batch answers 200 while some
    /// of its sub-requests answer 429 (or 503) with their own `Retry-After`
    /// (learn.microsoft.com/graph/throttling, "Throttling and batching"). Those are sent again,
    /// together, after the longest wait they asked for, up to `http.max_attempts` in all; one
    /// still throttled then fails the read rather than being taken as an answer.
    pub(super) fn batches<B: DeserializeOwned + Default + Send + 'static>(
        &self,
        all: Vec<Vec<SubRequest>>,
    ) -> Result<Vec<Answers<B>>, HttpError> {
        let mut answers = self.batches_once::<B>(&all)?;
        let mut attempt = 1;
        loop {
            // (batch, sub-request) of every throttled answer, and the longest wait asked.
            let mut again: Vec<(usize, &SubRequest)> = Vec::new();
            let mut asked: Option<Duration> = None;
            for (b, requests) in all.iter().enumerate() {
                for r in requests {
                    let Some(sub) = answers[b].get(&r.id).filter(|s| throttled(s.status)) else { continue };
                    asked = asked.max(sub.retry_after);
                    if attempt >= self.http.max_attempts() {
                        return Err(HttpError {
                            provider: "entra",
                            method: "GET",
                            endpoint: super::http::endpoint(&r.url),
                            status: Some(sub.status),
                            code: None,
                            detail: format!("a $batch sub-request was still throttled after {attempt} attempts"),
                        });
                    }
                    again.push((b, r));
                }
            }
            if again.is_empty() {
                let done = answers.into_iter().map(|a| a.into_iter().map(|(id, s)| (id, (s.status, s.body))).collect());
                return Ok(done.collect());
            }
            std::thread::sleep(self.http.retry_wait(asked, attempt));
            attempt += 1;
            // Sub-request ids are unique within a batch only: a resent one gets its position.
            let resend: Vec<Vec<SubRequest>> = again
                .chunks(BATCH)
                .map(|c| {
                    c.iter().enumerate().map(|(i, (_, r))| SubRequest::get(i.to_string(), r.url.clone())).collect()
                })
                .collect();
            let mut retried = self.batches_once::<B>(&resend)?.into_iter();
            for chunk in again.chunks(BATCH) {
                let mut got = retried.next().unwrap_or_default();
                for (i, (b, r)) in chunk.iter().enumerate() {
                    match got.remove(&i.to_string()) {
                        Some(answer) => answers[*b].insert(r.id.clone(), answer),
                        None => answers[*b].remove(&r.id),
                    };
                }
            }
        }
    }

    /// `batches` without the sub-request retries. A token that expired meanwhile is replaced
    /// once for the batches it failed.
    fn batches_once<B: DeserializeOwned + Default + Send + 'static>(
        &self,
        all: &[Vec<SubRequest>],
    ) -> Result<Vec<HashMap<String, Sub<B>>>, HttpError> {
        let url = format!("{}/v1.0/$batch", self.settings.graph_url);
        let mut token = self.token()?;
        let bodies: Vec<String> = all.iter().map(|requests| Body { requests }.text()).collect();
        let build = |token: &str, body: &String| {
            Request::post_json(url.clone(), body.clone()).header("Authorization", format!("Bearer {token}"))
        };
        let sent: Vec<Request> = bodies.iter().map(|b| build(&token, b)).collect();
        let mut answers = self.http.send_all_as::<Reply<B>>(sent);
        if answers.iter().any(|a| matches!(a, Err(e) if e.status == Some(401))) {
            self.forget_token();
            token = self.token()?;
            let again: Vec<usize> =
                (0..answers.len()).filter(|&i| matches!(&answers[i], Err(e) if e.status == Some(401))).collect();
            let retry: Vec<Request> = again.iter().map(|&i| build(&token, &bodies[i])).collect();
            for (i, answer) in again.into_iter().zip(self.http.send_all_as(retry)) {
                answers[i] = answer;
            }
        }
        answers.into_iter().map(|answer| answer.map(subs)).collect()
    }

    /// Photo etags (`@odata.mediaEtag`) for the users, 20 per `$batch` request. A user whose
    /// photo metadata could not be read keeps `photo_etag: None` (unknown), so their avatar is
    /// left alone rather than cleared.
    pub(super) fn photo_etags(&self, users: &mut [SourceUser]) -> Result<(), HttpError> {
        // A bounded number of batches in flight and in memory at once.
        for group in users.chunks_mut(BATCH * 200) {
            let requests: Vec<Vec<SubRequest>> = group
                .chunks(BATCH)
                .map(|chunk| {
                    let each = chunk.iter().enumerate();
                    each.map(|(i, u)| SubRequest::get(i.to_string(), ["/users/", &u.id, "/photo"].concat())).collect()
                })
                .collect();
            let answers = self.batches::<PhotoMeta>(requests)?;
            for (chunk, answers) in group.chunks_mut(BATCH).zip(answers) {
                // Unknown until an answer says otherwise. Ids are the users' places in the chunk:
                // read back as numbers, not looked up as a text made for each user.
                chunk.iter_mut().for_each(|user| user.photo_etag = None);
                for (id, answer) in answers {
                    let Some(user) = place(&id).and_then(|i| chunk.get_mut(i)) else { continue };
                    user.photo_etag = match answer {
                        (200, meta) => Some(meta.etag),
                        (404, _) => Some(None),
                        _ => None,
                    };
                }
            }
        }
        Ok(())
    }
}

/// The place a sub-request id names: the id exactly as `photo_etags` wrote it (`0`, `1`, … `19`),
/// not any text that parses to the number (`+1`, `01`).
fn place(id: &str) -> Option<usize> {
    let canonical = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && (id == "0" || !id.starts_with('0'));
    canonical.then(|| id.parse().ok()).flatten()
}

/// What a photo's metadata answer says (`GET /users/{id}/photo`): its `@odata.mediaEtag`. Any
/// other body — an error object, or something that is not an object at all — says nothing;
/// the status decides what that means.
#[derive(Default)]
struct PhotoMeta {
    etag: Option<String>,
}

impl<'de> Deserialize<'de> for PhotoMeta {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PhotoMetaVisitor)
    }
}

struct PhotoMetaVisitor;

impl<'de> Visitor<'de> for PhotoMetaVisitor {
    type Value = PhotoMeta;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a photo's metadata")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<PhotoMeta, A::Error> {
        let mut meta = PhotoMeta::default();
        while let Some(key) = access.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "@odata.mediaEtag" {
                meta.etag = access.next_value::<Option<String>>()?;
            } else {
                access.next_value::<IgnoredAny>()?;
            }
        }
        Ok(meta)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut access: A) -> Result<PhotoMeta, A::Error> {
        while access.next_element::<IgnoredAny>()?.is_some() {}
        Ok(PhotoMeta::default())
    }

    fn visit_unit<E>(self) -> Result<PhotoMeta, E> {
        Ok(PhotoMeta::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<PhotoMeta, E> {
        Ok(PhotoMeta::default())
    }

    fn visit_i64<E>(self, _: i64) -> Result<PhotoMeta, E> {
        Ok(PhotoMeta::default())
    }

    fn visit_u64<E>(self, _: u64) -> Result<PhotoMeta, E> {
        Ok(PhotoMeta::default())
    }

    fn visit_f64<E>(self, _: f64) -> Result<PhotoMeta, E> {
        Ok(PhotoMeta::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<PhotoMeta, E> {
        Ok(PhotoMeta::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply<B: DeserializeOwned + Default + Send + 'static>(text: &str) -> Reply<B> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_sub_answer_finds_its_user_only_by_the_id_it_was_sent_with() {
        assert_eq!(place("0"), Some(0));
        assert_eq!(place("19"), Some(19));
        for other in ["", "+1", "01", "1 ", "-1", "x", "1.0", "99999999999999999999999"] {
            assert_eq!(place(other), None, "{other:?}");
        }
    }

    #[test]
    fn photo_metadata_takes_the_etag_and_anything_else_says_nothing() {
        let r: Reply<PhotoMeta> = reply(
            r#"{"responses":[
                {"id":"0","status":200,"headers":{"Content-Type":"application/json"},
                 "body":{"@odata.context":"x","@odata.mediaContentType":"image/jpeg","@odata.mediaEtag":"W/\"abc\"","id":"default","height":96,"width":96}},
                {"id":"1","status":404,"body":{"error":{"code":"ImageNotFound","message":"m"}}},
                {"id":"2","status":200,"body":{"@odata.mediaEtag":null}},
                {"id":"3","status":500,"body":"an HTML page"},
                {"id":"4","status":500,"body":[1,2]},
                {"id":"5","status":500}
            ]}"#,
        );
        let etags: Vec<_> = r.responses.iter().map(|s| (s.id.as_deref(), s.status, s.body.etag.as_deref())).collect();
        assert_eq!(
            etags,
            [
                (Some("0"), 200, Some("W/\"abc\"")),
                (Some("1"), 404, None),
                (Some("2"), 200, None),
                (Some("3"), 500, None),
                (Some("4"), 500, None),
                (Some("5"), 500, None)
            ]
        );
    }

    #[test]
    fn a_sub_request_retry_after_is_found_whatever_the_case_of_its_name() {
        let read = |text: &str| serde_json::from_str::<RetryAfterHeader>(text).unwrap().0;
        assert_eq!(read(r#"{"retry-after":"4"}"#).as_deref().and_then(retry_after), Some(Duration::from_secs(4)));
        assert_eq!(read(r#"{"Cache-Control":"no-cache","RETRY-AFTER":"7","x":{"y":[1]}}"#).as_deref(), Some("7"));
        assert_eq!(read(r#"{"Retry-After":5,"retry-after":"6"}"#).as_deref(), Some("6"), "a text value only");
        assert_eq!(read(r#"{"Content-Type":"application/json"}"#), None);
        assert_eq!(read("null"), None);
        assert!(serde_json::from_str::<RetryAfterHeader>("[1]").is_err(), "headers are an object");
    }

    #[test]
    fn only_throttled_answers_carry_a_wait_and_answers_without_an_id_are_dropped() {
        let r: Reply<Value> = reply(
            r#"{"responses":[
                {"id":"a","status":429,"headers":{"Retry-After":"3"},"body":{}},
                {"id":"b","status":503,"headers":{"retry-after":"NaN"}},
                {"id":"c","status":200,"headers":{"Retry-After":"9"},"body":{"id":"x"}},
                {"status":200,"body":{"id":"lost"}}
            ]}"#,
        );
        let subs = subs(r);
        let mut seen: Vec<_> = subs.iter().map(|(id, s)| (id.as_str(), s.status, s.retry_after)).collect();
        seen.sort();
        assert_eq!(seen, [("a", 429, Some(Duration::from_secs(3))), ("b", 503, None), ("c", 200, None)]);
        assert_eq!(subs["c"].body, serde_json::json!({ "id": "x" }));
    }

    #[test]
    fn sub_requests_are_written_as_graph_reads_them() {
        let requests = [SubRequest::get("0", "/users/a b/photo".into())];
        let text = Body { requests: &requests }.text();
        assert_eq!(text, r#"{"requests":[{"id":"0","method":"GET","url":"/users/a b/photo"}]}"#);
    }
}
