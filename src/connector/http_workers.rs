//! The threads `Http::send_all` sends on: started at a client's first call with more than one
//! request, kept until the client is dropped, then joined.
//!
//! Why kept, not started per call: Entra's photo metadata is looked up 2,000 users at a time,
//! so a 100,000-user run started some 200 threads, each a fresh allocator heap whose pages were
//! abandoned when it ended (mimalloc's statistics, docs/PERFORMANCE.md). Joined on drop, so
//! nothing of ours runs on in a host (a JVM) after the connector that owned the client is gone.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use super::http::{Http, HttpError, Request};

/// One request to send, on whichever worker is free.
type Job = Box<dyn FnOnce(&Http) + Send>;

/// The queue the workers take jobs from, one at a time.
type Queue = Mutex<mpsc::Receiver<Job>>;

pub(super) struct Workers {
    jobs: Option<mpsc::Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
    /// Held by the workers alone: gone once every one of them has ended (seen by tests).
    #[cfg(test)]
    queue: std::sync::Weak<Queue>,
}

impl Workers {
    /// Starts `count` threads, each with its own handle on `http`'s agent (they share its
    /// connection pool). A thread the system refuses is left out; with none, `run` sends on the
    /// calling thread.
    pub(super) fn start(http: &Http, count: usize) -> Workers {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue: Arc<Queue> = Arc::new(Mutex::new(queue));
        let threads = (0..count)
            .filter_map(|i| {
                let queue = Arc::clone(&queue);
                let http = http.worker_copy();
                let work = move || loop {
                    // The lock is held while waiting for a job, not while doing it.
                    let job = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match job {
                        Ok(job) => job(&http),
                        Err(_) => break, // the client was dropped
                    }
                };
                std::thread::Builder::new().name(format!("usersync-http-{i}")).spawn(work).ok()
            })
            .collect();
        Workers {
            jobs: Some(jobs),
            threads,
            #[cfg(test)]
            queue: Arc::downgrade(&queue),
        }
    }

    #[cfg(test)]
    pub(super) fn queue(&self) -> std::sync::Weak<impl Sized> {
        self.queue.clone()
    }

    /// Sends every request with `send` on the workers; answers in the order of `requests`. A
    /// panic in `send` is raised again here, on the caller's thread, once every other request
    /// has been answered, as a scoped thread's would be; the worker itself lives on.
    pub(super) fn run<T: Send + 'static>(
        &self,
        http: &Http,
        requests: Vec<Request>,
        send: fn(&Http, &Request) -> Result<T, HttpError>,
    ) -> Vec<Result<T, HttpError>> {
        let requests: Arc<[Request]> = requests.into();
        let answers = Arc::new(Answers::new(requests.len()));
        for i in 0..requests.len() {
            let place = Place { answers: Arc::clone(&answers), i, answer: None };
            let requests = Arc::clone(&requests);
            let job: Job = Box::new(move |http| {
                place.fill(catch_unwind(AssertUnwindSafe(|| send(http, &requests[i]))));
            });
            let refused = match (&self.jobs, self.threads.is_empty()) {
                (Some(jobs), false) => jobs.send(job).err().map(|e| e.0),
                _ => Some(job),
            };
            // No worker to take it: sent here.
            if let Some(job) = refused {
                job(http);
            }
        }
        let Filled { slots, panicked, .. } = answers.wait();
        if let Some(payload) = panicked {
            resume_unwind(payload);
        }
        slots
            .into_iter()
            .zip(requests.iter())
            .map(|(slot, req)| {
                // Only a job dropped unrun (its worker gone) leaves a slot empty.
                slot.unwrap_or_else(|| Err(http.error(req, None, None, "the request was not sent".into())))
            })
            .collect()
    }
}

/// One call's answers, filled in by the workers. The caller sleeps until the last is in: one
/// wake-up a call, not one an answer (5,000 `$batch` answers at 100,000 Entra users).
struct Answers<T> {
    filled: Mutex<Filled<T>>,
    all_in: Condvar,
}

struct Filled<T> {
    slots: Vec<Option<Result<T, HttpError>>>,
    left: usize,
    panicked: Option<Box<dyn Any + Send>>,
}

impl<T> Answers<T> {
    fn new(n: usize) -> Self {
        let slots = std::iter::repeat_with(|| None).take(n).collect();
        Answers { filled: Mutex::new(Filled { slots, left: n, panicked: None }), all_in: Condvar::new() }
    }

    fn wait(&self) -> Filled<T> {
        let mut filled = self.filled.lock().unwrap_or_else(|p| p.into_inner());
        while filled.left > 0 {
            filled = self.all_in.wait(filled).unwrap_or_else(|p| p.into_inner());
        }
        std::mem::replace(&mut *filled, Filled { slots: Vec::new(), left: 0, panicked: None })
    }
}

/// A request's place among its call's answers. It counts as in when dropped, answered or not,
/// so the caller never waits for a job that was dropped unrun.
struct Place<T> {
    answers: Arc<Answers<T>>,
    i: usize,
    answer: Option<std::thread::Result<Result<T, HttpError>>>,
}

impl<T> Place<T> {
    fn fill(mut self, answer: std::thread::Result<Result<T, HttpError>>) {
        self.answer = Some(answer);
    }
}

impl<T> Drop for Place<T> {
    fn drop(&mut self) {
        let mut filled = self.answers.filled.lock().unwrap_or_else(|p| p.into_inner());
        match self.answer.take() {
            Some(Ok(answer)) => filled.slots[self.i] = Some(answer),
            Some(Err(payload)) => filled.panicked = Some(payload),
            None => {}
        }
        filled.left -= 1;
        if filled.left == 0 {
            self.answers.all_in.notify_one();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        // Closing the queue ends each worker's loop once it is idle.
        self.jobs = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HttpSettings;
    use crate::connector::http::Provider;
    use std::collections::HashSet;

    fn client(concurrency: u32) -> Http {
        let settings = HttpSettings { concurrency, ..HttpSettings::default() };
        Http::new(Provider::Rest, &settings).expect("client")
    }

    fn requests(n: usize) -> Vec<Request> {
        (0..n).map(|i| Request::get(format!("http://127.0.0.1:9/{i}"))).collect()
    }

    fn thread_name(_: &Http, req: &Request) -> Result<(String, String), HttpError> {
        let name = std::thread::current().name().unwrap_or("").to_string();
        Ok((req.url.clone(), name))
    }

    /// The same threads send every call's requests (none started per call), answers keep the
    /// requests' order, and dropping the client joins its threads.
    #[test]
    fn workers_are_kept_between_calls_and_answers_keep_their_order() {
        let http = client(3);
        let mut names = HashSet::new();
        for _ in 0..20 {
            let answers = http.send_all_with(requests(7), thread_name);
            for (i, answer) in answers.into_iter().enumerate() {
                let (url, name) = answer.expect("answer");
                assert_eq!(url, format!("http://127.0.0.1:9/{i}"));
                assert!(name.starts_with("usersync-http-"), "sent on {name:?}");
                names.insert(name);
            }
        }
        assert!(names.len() <= 3, "more threads than the concurrency: {names:?}");
        let queue = http.workers_queue().expect("workers started");
        assert_eq!(queue.strong_count(), 3, "one handle on the queue per worker");
        drop(http);
        assert_eq!(queue.strong_count(), 0, "a worker outlived its client");
    }

    fn panics_on_third(_: &Http, req: &Request) -> Result<String, HttpError> {
        if req.url.ends_with("/3") {
            panic!("a bug in the answer's reader");
        }
        Ok(req.url.clone())
    }

    /// A panic while sending one request reaches the caller, as a scoped thread's did, and the
    /// client's workers still send the next call.
    #[test]
    fn a_panic_reaches_the_caller_and_the_workers_live_on() {
        let http = client(2);
        let caught = catch_unwind(AssertUnwindSafe(|| http.send_all_with(requests(6), panics_on_third)));
        let payload = caught.expect_err("the panic was raised again");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"a bug in the answer's reader"));
        let answers = http.send_all_with(requests(3), panics_on_third);
        assert_eq!(answers.len(), 3);
        assert!(answers.iter().all(Result::is_ok));
    }
}
