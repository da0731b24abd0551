package org.usersync;

import java.lang.ref.Cleaner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A sync engine: a state store file, a {@link Directory} and a configuration. Results are JSON
 * documents in the shapes {@code usersync --json} prints (see README.md and docs/CONFIG.md).
 *
 * <p>Close it (try-with-resources): {@link #close()} cancels running runs, waits for their
 * threads and releases the native engine, so the JVM can exit. A {@link Cleaner} closes a
 * forgotten engine as a backstop. Every method after {@code close()} throws
 * {@link IllegalStateException}.
 *
 * <p>Errors arrive as typed exceptions: {@link ConfigurationException},
 * {@link StateException}, {@link DirectoryException}, {@link InvalidRequestException},
 * {@link BusyException}; an internal error of the library as {@link IllegalStateException}.
 */
public final class Engine implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    /** Log levels for {@link #setLogSink}. */
    public enum Level { ERROR, WARN, INFO, DEBUG, TRACE }

    /** Owns the handle; shared by {@code close()} and the cleaner, runs once. */
    private static final class Handle implements Runnable {
        private long value;

        Handle(long value) {
            this.value = value;
        }

        synchronized long get() {
            if (value == 0) {
                throw new IllegalStateException("the engine is closed");
            }
            return value;
        }

        @Override
        public synchronized void run() {
            if (value != 0) {
                NativeEngine.close(value);
                value = 0;
            }
        }
    }

    private final Handle handle;
    private final Cleaner.Cleanable cleanable;

    /**
     * @param statePath the SQLite state store file (created when missing)
     * @param configJson the configuration document
     * @param baseDir where relative paths in the configuration resolve; null for the working directory
     * @param directory the application's directory
     */
    public Engine(Path statePath, String configJson, Path baseDir, Directory directory) {
        NativeEngine.ensureLoaded();
        Objects.requireNonNull(statePath, "statePath");
        Objects.requireNonNull(configJson, "configJson");
        Objects.requireNonNull(directory, "directory");
        long h = NativeEngine.create(statePath.toString(), configJson, baseDir == null ? null : baseDir.toString(),
                new DirectoryAdapter(directory));
        this.handle = new Handle(h);
        this.cleanable = CLEANER.register(this, handle);
    }

    /**
     * Where the private copy of the native library is written before it is loaded (the app gives
     * a directory under the application's home). Call before anything else of this class loader
     * touches the engine; later calls change nothing.
     */
    public static void useNativeDirectory(Path dir) {
        NativeLoader.directory = Objects.requireNonNull(dir, "dir");
    }

    /**
     * An engine whose state the host keeps in {@code tables} (the app: the application's
     * database) instead of a SQLite file.
     */
    public Engine(StateTables tables, String configJson, Path baseDir, Directory directory) {
        NativeEngine.ensureLoaded();
        Objects.requireNonNull(tables, "tables");
        Objects.requireNonNull(configJson, "configJson");
        Objects.requireNonNull(directory, "directory");
        long h = NativeEngine.createWithTables(new TablesAdapter(tables), configJson,
                baseDir == null ? null : baseDir.toString(), new DirectoryAdapter(directory));
        this.handle = new Handle(h);
        this.cleanable = CLEANER.register(this, handle);
    }

    private Engine(long handle) {
        this.handle = new Handle(handle);
        this.cleanable = CLEANER.register(this, this.handle);
    }

    /**
     * An engine on the configuration stored in {@code tables} by an earlier
     * {@link #importConfig}: the configuration and its secrets stay inside the library. Throws
     * {@link ConfigurationException} when none is stored.
     */
    public static Engine fromStoredConfig(StateTables tables, Directory directory) {
        NativeEngine.ensureLoaded();
        return new Engine(NativeEngine.createFromStore(new TablesAdapter(Objects.requireNonNull(tables, "tables")),
                new DirectoryAdapter(Objects.requireNonNull(directory, "directory")), null));
    }

    /**
     * An engine on the configuration {@code tables} hold, or with no connectors when none is
     * stored yet (the admin page makes them); relative paths of a configuration made then resolve
     * against {@code baseDir}.
     */
    public static Engine fromStoreOrEmpty(StateTables tables, Path baseDir, Directory directory) {
        NativeEngine.ensureLoaded();
        return new Engine(NativeEngine.createFromStore(new TablesAdapter(Objects.requireNonNull(tables, "tables")),
                new DirectoryAdapter(Objects.requireNonNull(directory, "directory")),
                Objects.requireNonNull(baseDir, "baseDir").toString()));
    }

    /**
     * Runs the state store's contract (every rule the engine relies on) over {@code tables}, in
     * namespaces of their own that are erased afterwards. Throws {@link StateException} naming the
     * broken rule.
     */
    public static void checkStateTables(StateTables tables) {
        NativeEngine.ensureLoaded();
        NativeEngine.checkStateTables(new TablesAdapter(Objects.requireNonNull(tables, "tables")));
    }

    /** The ABI version of the loaded library. */
    public static int abiVersion() {
        NativeEngine.ensureLoaded();
        return NativeEngine.abiVersion();
    }

    /** Checks a configuration; throws {@link ConfigurationException} listing every error. */
    public static void validateConfig(String configJson) {
        NativeEngine.ensureLoaded();
        NativeEngine.validateConfig(configJson);
    }

    /** Forwards the library's log events at {@code maxLevel} and above to {@code sink}. */
    public static void setLogSink(LogSink sink, Level maxLevel) {
        NativeEngine.ensureLoaded();
        NativeEngine.setLogSink(Objects.requireNonNull(sink, "sink"), maxLevel.ordinal() + 1);
    }

    public static void clearLogSink() {
        NativeEngine.ensureLoaded();
        NativeEngine.clearLogSink();
    }

    /**
     * Validates a configuration, stores it in the state store (a secret it leaves out keeps its
     * stored value) and makes it the active one.
     */
    public void importConfig(String configJson, Path baseDir) {
        NativeEngine.importConfig(handle.get(), Objects.requireNonNull(configJson, "configJson"),
                baseDir == null ? null : baseDir.toString());
    }

    public void setConfig(String configJson, Path baseDir) {
        NativeEngine.setConfig(handle.get(), configJson, baseDir == null ? null : baseDir.toString());
    }

    /**
     * Runs a sync and blocks until it ends. {@code requestJson}: {"connector", "mode":
     * "full"|"single_user", "user", "simulate", "trigger"}, all optional; null is a full run.
     * Returns the run report, whatever the run's status.
     */
    public String run(String requestJson) {
        return NativeEngine.run(handle.get(), requestJson);
    }

    public String sync() {
        return run(null);
    }

    public String simulate() {
        return run("{\"simulate\":true}");
    }

    public String syncUser(String idOrUsername) {
        return run("{\"mode\":\"single_user\",\"user\":" + Json.quote(idOrUsername) + "}");
    }

    /**
     * Like {@link #run} but a run that could not read its source throws {@link SourceException}
     * and a held run throws {@link HeldException}.
     */
    public String runChecked(String requestJson) {
        String report = run(requestJson);
        String status = field(report, "status");
        long runId = Long.parseLong(field(report, "run_id"));
        if ("FAILED".equals(status)) {
            throw new SourceException(runId, field(report, "error"));
        }
        if ("HELD".equals(status)) {
            throw new HeldException(runId, field(report, "hold_reason"));
        }
        return report;
    }

    /** Starts a run on its own thread and returns its id at once. */
    public long start(String requestJson) {
        return NativeEngine.start(handle.get(), requestJson);
    }

    /** {"run_id", "phase", "done", "total"} of a started run. */
    public String progress(long runId) {
        return NativeEngine.progress(handle.get(), runId);
    }

    /** Stops a started run between users; it ends CANCELLED. */
    public void cancel(long runId) {
        NativeEngine.cancel(handle.get(), runId);
    }

    /** Waits for a started run and returns its report. */
    public String await(long runId) {
        return NativeEngine.waitFor(handle.get(), runId);
    }

    /** Applies what a HELD run held back, after re-checking; returns the new run's report. */
    public String approve(long runId) {
        return NativeEngine.approve(handle.get(), runId);
    }

    public String history(int limit) {
        return NativeEngine.history(handle.get(), limit);
    }

    /**
     * Starts running the configuration's schedules on the engine's own threads (trigger
     * "schedule"). Nodes whose engines share a state store start one run per fire time between
     * them; a run that finds another run of its connector going on is recorded SKIPPED.
     * Throws {@link InvalidRequestException} when no connector has a schedule.
     */
    public void startScheduler() {
        NativeEngine.startScheduler(handle.get());
    }

    /** Stops the scheduler; its runs are cancelled between users and waited for. */
    public void stopScheduler() {
        NativeEngine.stopScheduler(handle.get());
    }

    /**
     * Every connector's schedules, for a host that runs them with its own scheduler:
     * [{"connector", "kind": "full"|"incremental", "cron", "time_zone"}] (Quartz cron syntax).
     */
    public String schedules() {
        return NativeEngine.schedules(handle.get());
    }

    /** An answer of the admin API: what a server sends back to the browser. */
    public record AdminAnswer(int status, String contentType, String filename, String body) {}

    /**
     * One call of the admin API (the same handlers {@code usersync serve} uses): {@code path}
     * is the part after {@code /api/1}, {@code query} the raw query string or null. The caller
     * has authenticated the user and checked XSRF; the engine answers without secrets.
     */
    public AdminAnswer adminCall(String method, String path, String query, String body) {
        java.util.Map<String, Object> a = JsonReader.object(NativeEngine.adminCall(handle.get(),
                Objects.requireNonNull(method, "method"), Objects.requireNonNull(path, "path"), query, body));
        return new AdminAnswer(((Number) a.get("status")).intValue(), (String) a.get("content_type"),
                (String) a.get("filename"), (String) a.get("body"));
    }

    /**
     * An answer of the SCIM endpoint: the status, the {@code Location} of a created resource, whether
     * to send {@code WWW-Authenticate: Bearer} (a 401), and the JSON body (null for 204).
     */
    public record ScimAnswer(int status, String location, boolean challenge, String body) {}

    /**
     * One request to the SCIM endpoint IdPs push to ({@code scim-inbound} connectors), as the
     * servlet received it: {@code base} is the endpoint's URL as the IdP reaches it,
     * {@code authorization} the request's header (its bearer token picks the connector), {@code path}
     * the part after {@code /scim/v2}, {@code query} the raw query string or null.
     */
    public ScimAnswer scimCall(String base, String authorization, String method, String path, String query,
            String body) {
        java.util.Map<String, Object> a = JsonReader.object(NativeEngine.scimCall(handle.get(),
                Objects.requireNonNull(base, "base"), authorization, Objects.requireNonNull(method, "method"),
                Objects.requireNonNull(path, "path"), query, body));
        return new ScimAnswer(((Number) a.get("status")).intValue(), (String) a.get("location"),
                Boolean.TRUE.equals(a.get("www_authenticate")), (String) a.get("body"));
    }

    /** The next fire times, soonest first: [{"connector", "kind", "at"}]. */
    public String nextFireTimes(int count) {
        return NativeEngine.nextFireTimes(handle.get(), count);
    }

    /** {"run": {...}, "results": [...]}: a run and its per-user results. */
    public String results(long runId) {
        return NativeEngine.results(handle.get(), runId);
    }

    /**
     * The login hook: {"allow", "reason", "run_id"}. {@code connector} may be null when the
     * configuration has one connector.
     */
    public String onLogin(String connector, String username) {
        return NativeEngine.onLogin(handle.get(), connector, username, null);
    }

    /**
     * The login hook with what the host knows of the login ({@code header:X-Idp} and the like):
     * without a connector, the configuration's {@code login.routes} choose one by them. Pass only
     * the attributes {@link #loginAttributes()} names.
     */
    public String onLogin(String connector, String username, Map<String, String> attributes) {
        String json = attributes == null || attributes.isEmpty() ? null : Json.object(attributes);
        return NativeEngine.onLogin(handle.get(), connector, username, json);
    }

    /** The login attributes the configuration's routes compare, such as {@code header:X-Idp}. */
    public List<String> loginAttributes() {
        List<String> names = new ArrayList<>();
        if (JsonReader.parse(NativeEngine.loginAttributes(handle.get())) instanceof List<?> list) {
            for (Object o : list) {
                names.add(String.valueOf(o));
            }
        }
        return names;
    }

    /**
     * Tests a connector's connection for the admin page: {"connector", "ok", "steps": [{"step",
     * "ok", "detail"}]}, the details saying what is missing in plain words.
     */
    public String check(String connector) {
        return NativeEngine.check(handle.get(), connector);
    }

    @Override
    public void close() {
        cleanable.clean();
    }

    /** The text of a top-level scalar field of a report (tests and runChecked use it). */
    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\":(\"((?:[^\"\\\\]|\\\\.)*)\"|[^,}]+)").matcher(json);
        if (!m.find()) {
            return null;
        }
        return m.group(2) != null ? m.group(2) : m.group(1);
    }
}
