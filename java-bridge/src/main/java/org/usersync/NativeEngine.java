package org.usersync;

/**
 * Every native method of the library, in one place. Each is one Rust function in
 * {@code src/jni/natives.rs}. Use {@link Engine}; this class is its private machinery.
 *
 * <p>The library is loaded by {@link NativeLoader}: a private copy per class loader, from the
 * file in the system property {@code usersync.library} or from this jar. Loading checks that the
 * library implements {@link #ABI_VERSION}.
 */
final class NativeEngine {
    /** Must equal {@code USERSYNC_ABI_VERSION} in include/usersync.h. */
    static final int ABI_VERSION = 2;

    static {
        NativeLoader.load();
        int loaded = abiVersion();
        if (loaded != ABI_VERSION) {
            throw new UnsatisfiedLinkError("the usersync library implements ABI version " + loaded
                    + " but this Java shim needs version " + ABI_VERSION + "; use matching builds");
        }
    }

    private NativeEngine() {}

    /** Loads the library (once) and checks its ABI version. */
    static void ensureLoaded() {
        // Running the static initialiser is the point.
    }

    static native int abiVersion();

    static native long create(String statePath, String configJson, String baseDir, DirectoryAdapter directory);

    static native long createWithTables(TablesAdapter tables, String configJson, String baseDir,
            DirectoryAdapter directory);

    static native void checkStateTables(TablesAdapter tables);

    static native long createFromStore(TablesAdapter tables, DirectoryAdapter directory, String emptyBaseDir);

    static native void importConfig(long handle, String configJson, String baseDir);

    static native void setConfig(long handle, String configJson, String baseDir);

    static native void validateConfig(String configJson);

    static native String run(long handle, String requestJson);

    static native long start(long handle, String requestJson);

    static native String progress(long handle, long runId);

    static native void cancel(long handle, long runId);

    static native String waitFor(long handle, long runId);

    static native String approve(long handle, long runId);

    static native String history(long handle, int limit);

    static native void startScheduler(long handle);

    static native void stopScheduler(long handle);

    static native String nextFireTimes(long handle, int count);

    static native String results(long handle, long runId);

    static native String onLogin(long handle, String connector, String username, String attributesJson);

    static native String loginAttributes(long handle);

    static native String schedules(long handle);

    static native String adminCall(long handle, String method, String path, String query, String body);

    static native String scimCall(long handle, String base, String authorization, String method, String path,
            String query, String body);

    static native String check(long handle, String connector);

    static native void close(long handle);

    static native void setLogSink(LogSink sink, int maxLevel);

    static native void clearLogSink();

    /** Panics inside Rust; for tests of the boundary. */
    static native void testingPanic();

    /**
     * Diagnostics for the shim's benchmark: {@code times} calls of a read-only directory
     * operation made from Rust as a run makes them; the nanoseconds they took in all.
     */
    static native long timeDirectoryCalls(DirectoryAdapter directory, String op, String arg, int times);

    /** {@link #timeDirectoryCalls} into the same directory written in Rust: no crossing. */
    static native long timeRustDirectoryCalls(String op, String arg, int times);

    /**
     * Diagnostics for the shim's benchmark: the configured sync, {@code runs} times, into the
     * Rust twin of the tests' in-memory directory; a JSON array with one object per run.
     */
    static native String syncRustDirectory(String statePath, String configJson, String baseDir, int runs);
}
