package org.usersync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void aLookUpThatFindsNobodyIsAnAnswerAndAFailingOneStaysAFailure() {
        Counted dir = new Counted();
        String key = dir.createUser("ann", "Ann", "ann@example.com", true, "ext-1");
        DirectoryAdapter adapter = new DirectoryAdapter(dir);
        String ann = adapter.invoke("find_user", "ANN", null, null, null, null);
        assertTrue(ann.startsWith("0{") && ann.contains("\"key\":\"" + key + "\""), ann);
        assertEquals("1no user nobody", adapter.invoke("find_user", "nobody", null, null, null, null));
        assertEquals("1no user with external id ext-2",
                adapter.invoke("find_by_external_id", "ext-2", null, null, null, null));
        dir.fail = true;
        assertEquals("4IllegalStateException: the directory is down",
                adapter.invoke("find_user", "ann", null, null, null, null));
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

    @TempDir
    Path tmp;

    /** Refuses one value, as a host refuses a field it cannot store. */
    static final class RefusesMilan extends InMemoryDirectory {
        final AtomicInteger fieldWrites = new AtomicInteger();

        @Override
        public synchronized void setField(String key, String target, String value) {
            fieldWrites.incrementAndGet();
            if ("Milan".equals(value)) {
                throw new DirectoryException(DirectoryException.Kind.UNSUPPORTED, "no office\tin\nMilan");
            }
            super.setField(key, target, value);
        }
    }

    @Test
    void aUsersFieldWritesCrossTogetherAndEachKeepsItsOwnResult() throws IOException {
        RefusesMilan dir = new RefusesMilan();
        try (Engine engine = new Engine(tmp.resolve("state.db"),
                EngineTest.read(EngineTest.QUICKSTART.resolve("config.json")), EngineTest.QUICKSTART, dir)) {
            String report = engine.sync();
            // Bruno's office is refused, with its message (tab and line break intact in the
            // result), and only that write: his other fields and groups are in.
            assertTrue(report.contains("no office\\tin\\nMilan"), report);
            InMemoryDirectory.User bruno = dir.find("bruno.bianchi");
            assertEquals("Engineering", bruno.values.get("profile:department"));
            assertEquals("Staff Engineer", bruno.values.get("profile:position"));
            assertTrue(bruno.groups.contains("staff-engineering"), bruno.groups.toString());
            assertEquals(null, bruno.values.get("profile:location"));
            assertTrue(dir.fieldWrites.get() > 10, "every field went through setField: " + dir.fieldWrites.get());
        }
    }

    /**
     * The benchmark's baseline: the same sync into the same directory written in Rust makes the
     * same directory operations as through the shim, and the same timed calls answer alike.
     */
    @Test
    void theRustTwinOfTheDirectoryTakesTheSameSyncWithTheSameOperations() throws IOException {
        String config = EngineTest.read(EngineTest.QUICKSTART.resolve("config.json"));
        ShimBenchmark.Counting dir = new ShimBenchmark.Counting(new InMemoryDirectory());
        long[] shimOperations = new long[2];
        try (Engine engine = new Engine(tmp.resolve("state.db"), config, EngineTest.QUICKSTART, dir)) {
            for (int phase = 0; phase < 2; phase++) {
                dir.calls.set(0);
                assertEquals("DONE", ShimBenchmark.status(engine.sync()));
                shimOperations[phase] = dir.calls.get();
            }
        }
        java.util.List<java.util.Map<String, Object>> runs = JsonReader.objects(NativeEngine.syncRustDirectory(
                tmp.resolve("rust-state.db").toString(), config, EngineTest.QUICKSTART.toString(), 2));
        assertEquals(2, runs.size());
        for (int phase = 0; phase < 2; phase++) {
            assertEquals("DONE", runs.get(phase).get("status"), runs.get(phase).toString());
            assertEquals(shimOperations[phase], ShimBenchmark.number(runs.get(phase), "operations"), 0.0,
                    "phase " + phase + ": " + runs.get(phase));
        }
        assertTrue(shimOperations[0] > shimOperations[1], "the full sync writes, the second does not");
        assertTrue(NativeEngine.timeRustDirectoryCalls("find_user", "nobody", 1000) > 0);
        IllegalArgumentException writes = assertThrows(IllegalArgumentException.class,
                () -> NativeEngine.timeRustDirectoryCalls("create_user", "x", 1));
        assertTrue(writes.getMessage().contains("not a read-only operation"), writes.getMessage());
    }
}
