package org.usersync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The timed crossing the shim's benchmark measures: real upcalls, their answers, their faults. */
class ShimCrossingTest {
    /** Counts the look-ups that reach Java, and fails them when asked to. */
    static final class Counted extends InMemoryDirectory {
        final AtomicInteger lookups = new AtomicInteger();
        volatile boolean fail;

        @Override
        public DirectoryUser findUser(String username) {
            lookups.incrementAndGet();
            if (fail) {
                throw new IllegalStateException("the directory is down");
            }
            return super.findUser(username);
        }
    }

    @Test
    void everyTimedCallReachesTheJavaDirectory() {
        NativeEngine.ensureLoaded();
        Counted dir = new Counted();
        long nanos = NativeEngine.timeDirectoryCalls(new DirectoryAdapter(dir), "find_user", "nobody", 5000);
        assertEquals(5000, dir.lookups.get(), "one upcall per call, none cached on the Rust side");
        assertTrue(nanos > 0, "a duration: " + nanos);
        // The cached method id and operation names serve another adapter of the same class too.
        Counted other = new Counted();
        NativeEngine.timeDirectoryCalls(new DirectoryAdapter(other), "find_user", "nobody", 10);
        assertEquals(10, other.lookups.get());
    }

    @Test
    void aFailingDirectoryAndAnOperationThatWritesAreRefused() {
        NativeEngine.ensureLoaded();
        Counted dir = new Counted();
        dir.fail = true;
        StateException failed = assertThrows(StateException.class,
                () -> NativeEngine.timeDirectoryCalls(new DirectoryAdapter(dir), "find_user", "nobody", 3));
        assertTrue(failed.getMessage().contains("the directory is down"), failed.getMessage());
        assertEquals(1, dir.lookups.get(), "the first failure ends the timing");
        IllegalArgumentException writes = assertThrows(IllegalArgumentException.class,
                () -> NativeEngine.timeDirectoryCalls(new DirectoryAdapter(dir), "create_user", "x", 1));
        assertTrue(writes.getMessage().contains("not a read-only operation"), writes.getMessage());
    }
}
