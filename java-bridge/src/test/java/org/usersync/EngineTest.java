package org.usersync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EngineTest {
    static final Path REPO = Path.of(System.getProperty("usersync.repo", "."));
    static final Path QUICKSTART = REPO.resolve("examples/quickstart");

    @TempDir
    Path tmp;

    static String read(Path p) throws IOException {
        return Files.readString(p, StandardCharsets.UTF_8);
    }

    static long number(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(-?\\d+)").matcher(json);
        assertTrue(m.find(), name + " missing in " + json);
        return Long.parseLong(m.group(1));
    }

    static String counts(String report) {
        Matcher m = Pattern.compile("\"counts\":\\{[^}]*\\}").matcher(report);
        assertTrue(m.find(), report);
        return m.group();
    }

    Engine quickstartEngine(InMemoryDirectory dir) throws IOException {
        return new Engine(tmp.resolve("state.db"), read(QUICKSTART.resolve("config.json")), QUICKSTART, dir);
    }

    void writePeople(Path csv, int n) throws IOException {
        StringBuilder b = new StringBuilder("id,user,mail\n");
        for (int i = 1; i <= n; i++) {
            b.append(100 + i).append(",user").append(i).append(",user").append(i).append("@example.com\n");
        }
        Files.writeString(csv, b.toString());
    }

    String smallConfig(Path csv) {
        return "{\"connectors\":[{\"id\":\"people\",\"type\":\"csv\",\"source\":{\"path\":" + Json.quote(csv.toString())
                + ",\"id_column\":\"id\"},\"mapping\":[{\"target\":\"username\",\"source\":\"user\"},"
                + "{\"target\":\"email\",\"source\":\"mail\"}]}]}";
    }

    @Test
    void abiVersionMatchesTheHeaderAndTheLibrary() throws IOException {
        assertEquals(NativeEngine.ABI_VERSION, Engine.abiVersion());
        Matcher m = Pattern.compile("#define USERSYNC_ABI_VERSION (\\d+)").matcher(read(REPO.resolve("include/usersync.h")));
        assertTrue(m.find());
        assertEquals(NativeEngine.ABI_VERSION, Integer.parseInt(m.group(1)));
    }

    @Test
    void fullSyncOfTheQuickStart() throws IOException {
        InMemoryDirectory dir = new InMemoryDirectory();
        try (Engine engine = quickstartEngine(dir)) {
            String first = engine.sync();
            assertEquals("DONE", Engine.field(first, "status"), first);
            assertEquals(27, number(first, "created"));
            assertEquals(27, dir.count(false));
            assertEquals("maria.garcia@partner.org", dir.find("maria.garcia").values.get("email"));
            String out = System.getProperty("usersync.resultsOut");
            if (out != null) {
                Files.writeString(Path.of(out), engine.results(number(first, "run_id")));
            }
            String second = engine.sync();
            assertEquals(0, number(second, "writes"));
            assertTrue(engine.check("hr-csv").contains("\"ok\":true"));
        }
    }

    @Test
    void simulationWritesNothingAndPredictsTheCounts() throws IOException {
        InMemoryDirectory dir = new InMemoryDirectory();
        try (Engine engine = quickstartEngine(dir)) {
            String sim = engine.simulate();
            assertEquals(0, dir.count(false));
            assertEquals(0, number(sim, "writes"));
            assertEquals(counts(sim), counts(engine.sync()));
        }
    }

    @Test
    void theSchedulerRunsSchedulesAndAHeldLockSkipsARun() throws Exception {
        Path csv = tmp.resolve("people.csv");
        writePeople(csv, 5);
        String scheduled = smallConfig(csv).replace("\"mapping\"", "\"schedule\":{\"full\":\"* * * * * ?\"},\"mapping\"");
        InMemoryDirectory dir = new InMemoryDirectory();
        try (Engine engine = new Engine(tmp.resolve("scheduled.db"), scheduled, null, dir)) {
            String fires = engine.nextFireTimes(2);
            assertTrue(fires.contains("\"connector\":\"people\"") && fires.contains("\"kind\":\"full\""), fires);
            // Another node holds the connector's lock: the run is skipped and recorded as such.
            assertTrue(dir.tryLock("usersync:people", 60));
            BusyException busy = assertThrows(BusyException.class, engine::sync);
            assertTrue(busy.getMessage().contains("skipped"), busy.getMessage());
            dir.unlock("usersync:people");

            engine.startScheduler();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (dir.count(false) < 5 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            engine.stopScheduler();
            assertEquals(5, dir.count(false));
            String history = engine.history(50);
            assertTrue(history.contains("\"trigger\":\"schedule\"") && history.contains("\"status\":\"SKIPPED\""), history);

            engine.setConfig(smallConfig(csv), null);
            InvalidRequestException none = assertThrows(InvalidRequestException.class, engine::startScheduler);
            assertTrue(none.getMessage().contains("no connector has a schedule"), none.getMessage());
        }
    }

    @Test
    void singleUserSync() throws IOException {
        InMemoryDirectory dir = new InMemoryDirectory();
        try (Engine engine = quickstartEngine(dir)) {
            String r = engine.syncUser("1025");
            assertEquals("single_user", Engine.field(r, "mode"));
            assertEquals(1, number(r, "created"));
            assertEquals(1, dir.count(false));
            assertNotNull(dir.find("maria.garcia"));
        }
    }

    @Test
    void loginReactivatesAUserTheSourceSaysIsBack() throws IOException {
        Path csv = tmp.resolve("people.csv");
        writePeople(csv, 12);
        InMemoryDirectory dir = new InMemoryDirectory();
        try (Engine engine = new Engine(tmp.resolve("s.db"), smallConfig(csv), null, dir)) {
            engine.sync();
            writePeople(csv, 11);
            assertEquals(1, number(engine.sync(), "disabled"));
            assertFalse(dir.find("user12").active);
            String denied = engine.onLogin("people", "user12");
            assertEquals("false", Engine.field(denied, "allow"), denied);
            writePeople(csv, 12);
            String allowed = engine.onLogin("people", "user12");
            assertEquals("true", Engine.field(allowed, "allow"), allowed);
            assertTrue(dir.find("user12").active);
        }
    }

    @Test
    void asyncRunWithProgressAndCancel() throws Exception {
        Path csv = tmp.resolve("people.csv");
        writePeople(csv, 40);
        InMemoryDirectory dir = new InMemoryDirectory();
        CountDownLatch fiveCreated = new CountDownLatch(5);
        CountDownLatch release = new CountDownLatch(1);
        dir.beforeCreate = name -> {
            if (fiveCreated.getCount() == 0) {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            fiveCreated.countDown();
        };
        try (Engine engine = new Engine(tmp.resolve("s.db"), smallConfig(csv), null, dir)) {
            long run = engine.start(null);
            assertTrue(fiveCreated.await(10, TimeUnit.SECONDS));
            String progress = engine.progress(run);
            assertEquals("applying", Engine.field(progress, "phase"), progress);
            engine.cancel(run);
            release.countDown();
            String report = engine.await(run);
            assertEquals("CANCELLED", Engine.field(report, "status"), report);
            long created = number(report, "created");
            assertEquals(created, dir.count(false));
            assertTrue(created >= 5 && created < 40, report);
            // The next run completes the job without duplicates or failures.
            dir.beforeCreate = name -> {};
            String next = engine.sync();
            assertEquals(40 - created, number(next, "created"));
            assertEquals(0, number(next, "failed"));
        }
    }

    @Test
    void aJavaExceptionFailsOneUserNotTheRun() throws IOException {
        Path csv = tmp.resolve("people.csv");
        writePeople(csv, 6);
        InMemoryDirectory dir = new InMemoryDirectory();
        dir.beforeCreate = name -> {
            if (name.equals("user2")) {
                throw new DirectoryException(DirectoryException.Kind.CONFLICT, "user2 is reserved");
            }
            if (name.equals("user4")) {
                throw new IllegalArgumentException("the host broke");
            }
        };
        try (Engine engine = new Engine(tmp.resolve("s.db"), smallConfig(csv), null, dir)) {
            String r = engine.sync();
            assertEquals("PARTIALLY_FAILED", Engine.field(r, "status"), r);
            assertEquals(4, number(r, "created"));
            assertEquals(2, number(r, "failed"));
            assertTrue(r.contains("user2 is reserved"), r);
            assertTrue(r.contains("IllegalArgumentException: the host broke"), r);
        }
    }

    @Test
    void errorsAreTypedExceptions() throws IOException {
        InMemoryDirectory dir = new InMemoryDirectory();
        ConfigurationException bad = assertThrows(ConfigurationException.class,
                () -> new Engine(tmp.resolve("s.db"), "{\"connectors\":[{\"id\":\"x\",\"type\":\"ldif\"}]}", null, dir));
        assertTrue(bad.getMessage().contains("connectors[0].type: unknown value 'ldif'"), bad.getMessage());
        assertThrows(ConfigurationException.class, () -> Engine.validateConfig("{"));

        Path csv = tmp.resolve("people.csv");
        writePeople(csv, 3);
        try (Engine engine = new Engine(tmp.resolve("s.db"), smallConfig(csv), null, dir)) {
            assertThrows(InvalidRequestException.class, () -> engine.approve(999));
            assertThrows(ConfigurationException.class, () -> engine.run("{\"mode\":\"sideways\"}"));
            Files.delete(csv);
            SourceException source = assertThrows(SourceException.class, () -> engine.runChecked(null));
            assertTrue(source.getMessage().contains("people.csv"), source.getMessage());
            assertThrows(IllegalArgumentException.class, () -> engine.onLogin(null, null));
        }
    }

    @Test
    void aHeldRunIsTypedAndApprovable() throws IOException {
        Path csv = tmp.resolve("people.csv");
        writePeople(csv, 20);
        InMemoryDirectory dir = new InMemoryDirectory();
        try (Engine engine = new Engine(tmp.resolve("s.db"), smallConfig(csv), null, dir)) {
            engine.sync();
            writePeople(csv, 8);
            HeldException held = assertThrows(HeldException.class, () -> engine.runChecked(null));
            assertEquals(20, dir.count(true));
            String approved = engine.approve(held.runId());
            assertEquals(12, number(approved, "disabled"));
            assertEquals(8, dir.count(true));
        }
    }

    @Test
    void aPanicInRustBecomesIllegalStateException() {
        Engine.abiVersion();
        IllegalStateException e = assertThrows(IllegalStateException.class, NativeEngine::testingPanic);
        assertTrue(e.getMessage().contains("testingPanic was called"), e.getMessage());
        assertEquals(NativeEngine.ABI_VERSION, Engine.abiVersion(), "the JVM lives on");
    }

    @Test
    void useAfterCloseThrowsInsteadOfCrashing() throws IOException {
        Engine engine = quickstartEngine(new InMemoryDirectory());
        engine.close();
        engine.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, engine::sync);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        // A stale handle passed straight to the natives is refused too.
        assertThrows(IllegalStateException.class, () -> NativeEngine.run(123456789L, null));
    }

    @Test
    void theLogSinkReceivesRunLines() throws IOException {
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        Engine.setLogSink((level, target, message) -> lines.add(level + " " + message), Engine.Level.INFO);
        try (Engine engine = quickstartEngine(new InMemoryDirectory())) {
            engine.sync();
        } finally {
            Engine.clearLogSink();
        }
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("INFO run ") && l.contains("started: connector 'hr-csv'")),
                lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.contains("finished: DONE")), lines.toString());
    }

    @Test
    void theJvmExitsPromptlyAfterClose() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xcheck:jni",
                "-Dusersync.library=" + System.getProperty("usersync.library"),
                "-cp", System.getProperty("usersync.classpath", System.getProperty("java.class.path")), "org.usersync.ExitProbe",
                QUICKSTART.toString(), tmp.resolve("probe.db").toString());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        boolean exited = p.waitFor(20, TimeUnit.SECONDS);
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!exited) {
            p.destroyForcibly();
        }
        assertTrue(exited, "the JVM did not exit after close(): " + output);
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("probe: DONE"), output);
        assertFalse(output.contains("WARNING in native method"), output);
    }
}
