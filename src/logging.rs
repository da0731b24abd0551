//! A log sink a host can install: the Java shim forwards to SLF4J or java.util.logging, a C host
//! to its own log. One global sink, because `tracing`'s dispatcher is global to the process.

use std::fmt::Write as _;
use std::sync::{Once, RwLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// One log line as a host sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// ERROR, WARN, INFO, DEBUG or TRACE.
    pub level: &'static str,
    pub target: String,
    pub message: String,
}

type Sink = Box<dyn Fn(&LogRecord) + Send + Sync>;

static SINK: RwLock<Option<(Level, Sink)>> = RwLock::new(None);
static INSTALL: Once = Once::new();

/// Installs (or replaces) the sink, receiving events at `max_level` and more severe. Returns
/// false when another global subscriber was installed first by the process (the sink then
/// receives nothing; the host's own subscriber gets the events).
pub fn set_sink(max_level: Level, sink: Sink) -> bool {
    *SINK.write().unwrap_or_else(|p| p.into_inner()) = Some((max_level, sink));
    let mut installed = true;
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(Forward);
        installed = tracing::subscriber::set_global_default(subscriber).is_ok();
    });
    installed
}

/// Removes the sink; events are dropped until another is installed.
pub fn clear_sink() {
    *SINK.write().unwrap_or_else(|p| p.into_inner()) = None;
}

struct Forward;

impl<S: Subscriber> Layer<S> for Forward {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let guard = SINK.read().unwrap_or_else(|p| p.into_inner());
        let Some((max, sink)) = guard.as_ref() else { return };
        let meta = event.metadata();
        if meta.level() > max {
            return;
        }
        let mut message = MessageVisitor(String::new());
        event.record(&mut message);
        let message = crate::redact::text(&message.0);
        sink(&LogRecord { level: meta.level().as_str(), target: meta.target().to_string(), message });
    }
}

/// The event's message, then its other fields as `key=value`.
struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let rest = std::mem::take(&mut self.0);
            let _ = write!(self.0, "{value:?}");
            if !rest.is_empty() {
                self.0.push(' ');
                self.0.push_str(&rest);
            }
        } else {
            if !self.0.is_empty() {
                self.0.push(' ');
            }
            let _ = write!(self.0, "{}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }
}
