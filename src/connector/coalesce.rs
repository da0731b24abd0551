//! A request's head and body leave in one write.
//!
//! ureq writes a request's head, then its body, each with a write of its own: a `POST` is two
//! TCP segments (two TLS records over TLS) and two system calls. Entra's photo metadata is 5,000
//! `$batch` POSTs at 100,000 users; on loopback a send also runs the receiving side's network
//! processing in the sender's time, and the second send cost as much as the first. This layer,
//! outermost in the connector chain (over TLS when there is TLS), holds what is transmitted
//! until the connection waits for input, the point where the request is complete, and sends it
//! then in one piece.

use std::fmt;

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// Wraps whatever transport the chain before it made.
#[derive(Debug, Default)]
pub(super) struct CoalesceConnector;

impl<In: Transport> Connector<In> for CoalesceConnector {
    type Out = Coalesced<In>;

    fn connect(&self, _: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(|inner| Coalesced { inner, pending: Vec::new() }))
    }
}

pub(super) struct Coalesced<T> {
    inner: T,
    /// Output transmitted by ureq and not yet written.
    pending: Vec<u8>,
}

impl<T: fmt::Debug> fmt::Debug for Coalesced<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coalesced").field("inner", &self.inner).field("pending", &self.pending.len()).finish()
    }
}

impl<T: Transport> Coalesced<T> {
    /// Writes what is pending through the inner transport's output buffer, as few writes as its
    /// size allows (ureq's default is 128 KiB: one for any request this crate sends).
    fn flush(&mut self, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let mut sent = 0;
        while sent < self.pending.len() {
            let output = self.inner.buffers().output();
            let n = output.len().min(self.pending.len() - sent);
            if n == 0 {
                return Err(ureq::Error::Io(std::io::Error::other("the transport has no output buffer")));
            }
            output[..n].copy_from_slice(&self.pending[sent..sent + n]);
            // On failure nothing pending is kept: the connection is not used again.
            if let Err(e) = self.inner.transmit_output(n, timeout) {
                self.pending.clear();
                return Err(e);
            }
            sent += n;
        }
        self.pending.clear();
        Ok(())
    }
}

impl<T: Transport> Transport for Coalesced<T> {
    // ureq writes the next piece at the start of the output buffer after each transmit: what
    // was transmitted is copied out first (a request's head is a few hundred bytes, a `$batch`
    // body a few KiB).
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, _: NextTimeout) -> Result<(), ureq::Error> {
        let output = self.inner.buffers().output();
        self.pending.extend_from_slice(&output[..amount]);
        Ok(())
    }

    fn maybe_await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.flush(timeout)?;
        self.inner.maybe_await_input(timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.flush(timeout)?;
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use ureq::unversioned::transport::LazyBuffers;

    use super::*;

    /// A server in memory: records every write it is given and answers each request (once its
    /// blank line and the `Content-Length` bytes after it are in) with a fixed reply.
    #[derive(Debug, Clone, Default)]
    struct Wire {
        writes: Arc<Mutex<Vec<Vec<u8>>>>,
    }

    #[derive(Debug)]
    struct WireTransport {
        wire: Wire,
        buffers: LazyBuffers,
        answered: bool,
    }

    impl Connector for Wire {
        type Out = WireTransport;

        fn connect(&self, _: &ConnectionDetails, _: Option<()>) -> Result<Option<WireTransport>, ureq::Error> {
            Ok(Some(WireTransport { wire: self.clone(), buffers: LazyBuffers::new(64, 256), answered: false }))
        }
    }

    impl Transport for WireTransport {
        fn buffers(&mut self) -> &mut dyn Buffers {
            &mut self.buffers
        }

        fn transmit_output(&mut self, amount: usize, _: NextTimeout) -> Result<(), ureq::Error> {
            let bytes = self.buffers.output()[..amount].to_vec();
            self.wire.writes.lock().unwrap().push(bytes);
            Ok(())
        }

        fn await_input(&mut self, _: NextTimeout) -> Result<bool, ureq::Error> {
            if self.answered {
                return Ok(false);
            }
            self.answered = true;
            let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            self.buffers.input_append_buf()[..reply.len()].copy_from_slice(reply);
            self.buffers.input_appended(reply.len());
            Ok(true)
        }

        fn is_open(&mut self) -> bool {
            true
        }
    }

    fn agent(wire: &Wire) -> ureq::Agent {
        let config = ureq::Agent::config_builder().http_status_as_error(false).build();
        ureq::Agent::with_parts(
            config,
            wire.clone().chain(CoalesceConnector),
            super::super::resolver::CachingResolver::default(),
        )
    }

    #[test]
    fn a_post_leaves_in_one_write_and_larger_ones_in_buffer_sized_pieces() {
        let wire = Wire::default();
        let body = "x".repeat(300);
        let mut answer = agent(&wire).post("http://127.0.0.1:9/batch").send(body.as_bytes()).unwrap();
        assert_eq!(answer.body_mut().read_to_string().unwrap(), "ok");
        let writes = wire.writes.lock().unwrap().clone();
        // The fake's output buffer is 256 bytes: head and body (more than that) take two writes,
        // each as full as the buffer allows, instead of a head, then the body.
        let all: Vec<u8> = writes.concat();
        let text = String::from_utf8(all).unwrap();
        assert!(text.starts_with("POST /batch HTTP/1.1\r\n"), "{text}");
        assert!(text.ends_with(&format!("\r\n\r\n{body}")), "{text}");
        assert_eq!(writes[0].len(), 256.min(text.len()), "{writes:?}");
        assert_eq!(writes.len(), text.len().div_ceil(256), "{writes:?}");
    }

    #[test]
    fn a_small_post_is_one_write() {
        let wire = Wire::default();
        agent(&wire).post("http://127.0.0.1:9/b").send(&b"{}"[..]).unwrap();
        let writes = wire.writes.lock().unwrap().clone();
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert!(writes[0].ends_with(b"\r\n\r\n{}"));
    }
}
