package org.usersync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine inside a JVM under hostile input and careless hosts: the JVM survives, errors say
 * what went wrong, and closing an engine while a sync runs cancels the sync and waits for it. */
class HostSafetyTest {
    @TempDir
    Path tmp;

    final EngineTest helpers = new EngineTest();

    String config(String type, Path file, String limits) {
        return "{\"connectors\":[{\"id\":\"people\",\"type\":\"" + type + "\",\"source\":{\"path\":"
                + Json.quote(file.toString()) + ",\"id_column\":\"id\",\"limits\":" + limits + "},"
                + "\"mapping\":[{\"target\":\"username\",\"source\":\"user\"}]}]}";
    }

    /** A 4 KB workbook whose sheet names its last cell. */
    static void hostileXlsx(Path path) throws IOException {
        String[][] parts = {
            {"[Content_Types].xml", "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>"},
            {"_rels/.rels", "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"},
            {"xl/workbook.xml", "<?xml version=\"1.0\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets><sheet name=\"Users\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"},
            {"xl/_rels/workbook.xml.rels", "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>"},
            {"xl/worksheets/sheet1.xml", "<?xml version=\"1.0\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><dimension ref=\"A1:XFD1048576\"/><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>id</t></is></c><c r=\"B1\" t=\"inlineStr\"><is><t>user</t></is></c></row><row r=\"1048576\"><c r=\"XFD1048576\" t=\"inlineStr\"><is><t>x</t></is></c></row></sheetData></worksheet>"},
        };
        try (OutputStream file = Files.newOutputStream(path); ZipOutputStream zip = new ZipOutputStream(file)) {
            for (String[] p : parts) {
                zip.putNextEntry(new ZipEntry(p[0]));
                zip.write(p[1].getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
    }

    @Test
    void hostileFilesFailTheirRunAndTheJvmRunsTheNextSync() throws IOException {
        Path xlsx = tmp.resolve("hostile.xlsx");
        hostileXlsx(xlsx);
        assertTrue(Files.size(xlsx) < 4096);
        Path csv = tmp.resolve("huge.csv");
        Files.writeString(csv, "id,user\n");
        try (RandomAccessFile f = new RandomAccessFile(csv.toFile(), "rw")) {
            f.setLength(1L << 30); // a 1 GB single cell (sparse: it reads as NULs)
        }
        Path good = tmp.resolve("people.csv");
        helpers.writePeople(good, 3);
        InMemoryDirectory dir = new InMemoryDirectory();
        // Other tests of this JVM (plugin class loaders, each with its copy of the library) make the
        // process bigger than these files ever should: the peak is measured from here, after
        // resetting the kernel's high-water mark (clear_refs 5, proc(5)).
        long baselineKib = resetPeak();
        try (Engine engine = new Engine(tmp.resolve("s.db"), config("xlsx", xlsx, "{}"), null, dir)) {
            String r = engine.sync();
            assertEquals("FAILED", Engine.field(r, "status"), r);
            assertTrue(r.contains("source.limits.max_columns"), r);
            engine.setConfig(config("csv", csv, "{\"max_file_mb\":2048}"), null);
            r = engine.sync();
            assertEquals("FAILED", Engine.field(r, "status"), r);
            assertTrue(r.contains("source.limits.max_row_kb"), r);
            // The JVM's peak resident memory grows by less than 100 MiB: the cell was never read whole.
            long grownKib = peakKib() - baselineKib;
            System.out.println("peak resident memory of this JVM grew by " + grownKib / 1024
                    + " MiB over the hostile files (from " + baselineKib / 1024 + " MiB)");
            assertTrue(grownKib < 100 * 1024, "the peak grew by " + grownKib + " KiB reading the hostile files");
            engine.setConfig(config("csv", good, "{}"), null);
            r = engine.sync();
            assertEquals("DONE", Engine.field(r, "status"), r);
            assertEquals(3, dir.count(true));
        }
    }

    /** Resets the high-water mark of resident memory to the current size, and returns that size. */
    static long resetPeak() throws IOException {
        Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        return peakKib();
    }

    static long peakKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }

    @Test
    void closingFromAnotherThreadDuringABlockingSyncCancelsAndWaits() throws Exception {
        Path csv = tmp.resolve("people.csv");
        helpers.writePeople(csv, 300);
        InMemoryDirectory dir = new InMemoryDirectory();
        AtomicInteger creates = new AtomicInteger();
        CountDownLatch started = new CountDownLatch(10);
        dir.beforeCreate = name -> {
            creates.incrementAndGet();
            started.countDown();
            try {
                Thread.sleep(10); // a slow host
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        Engine engine = new Engine(tmp.resolve("s.db"), helpers.smallConfig(csv), null, dir);
        AtomicReference<String> report = new AtomicReference<>();
        Thread sync = new Thread(() -> report.set(engine.sync()));
        sync.start();
        assertTrue(started.await(20, TimeUnit.SECONDS));
        engine.close();
        int atClose = creates.get();
        sync.join(20_000);
        assertEquals(atClose, creates.get(), "the directory was called after close() returned");
        assertEquals("CANCELLED", Engine.field(report.get(), "status"), report.get());
        assertTrue(EngineTest.number(report.get(), "created") < 300, report.get());
    }

    @Test
    void progressAnswersTheMomentStartReturns() throws IOException {
        Path csv = tmp.resolve("people.csv");
        helpers.writePeople(csv, 20);
        try (Engine engine = new Engine(tmp.resolve("s.db"), helpers.smallConfig(csv), null, new InMemoryDirectory())) {
            long run = engine.start(null);
            String p = engine.progress(run);
            assertEquals(run, EngineTest.number(p, "run_id"), p);
            engine.await(run);
            String last = engine.progress(run);
            assertEquals("finished", Engine.field(last, "phase"), last);
            assertEquals(20, EngineTest.number(last, "done"), last);
        }
    }

    @Test
    void aDirectoryThatAnswersNullIsAFailureNotAUserCalledNull() throws IOException {
        Path csv = tmp.resolve("people.csv");
        helpers.writePeople(csv, 3);
        InMemoryDirectory dir = new InMemoryDirectory() {
            @Override
            public String createUser(String username, String displayName, String email, boolean active, String externalId) {
                return username.equals("user2") ? null : super.createUser(username, displayName, email, active, externalId);
            }
        };
        try (Engine engine = new Engine(tmp.resolve("s.db"), helpers.smallConfig(csv), null, dir)) {
            String r = engine.sync();
            assertEquals("PARTIALLY_FAILED", Engine.field(r, "status"), r);
            assertTrue(r.contains("createUser(user2) returned no value"), r);
            assertEquals(2, dir.count(false));
        }
    }

    @Test
    void capabilitiesThatThrowAreReportedAsThemselves() throws IOException {
        Path csv = tmp.resolve("people.csv");
        helpers.writePeople(csv, 2);
        InMemoryDirectory dir = new InMemoryDirectory() {
            @Override
            public Capabilities capabilities() {
                throw new IllegalStateException("the plugin is not ready yet");
            }
        };
        try (Engine engine = new Engine(tmp.resolve("s.db"), helpers.smallConfig(csv), null, dir)) {
            UsersyncException e = assertThrows(UsersyncException.class, engine::sync);
            assertTrue(e.getMessage().contains("the plugin is not ready yet"), e.getMessage());
        }
    }

    @Test
    void aNulInTheConfigurationIsRefused() {
        // A raw NUL crosses JNI intact and is refused by the JSON reader...
        ConfigurationException raw = assertThrows(ConfigurationException.class,
                () -> Engine.validateConfig("{\"connectors\":[{\"id\":\"a\u0000b\"}]}"));
        assertTrue(raw.getMessage().contains("line 1, column 24"), raw.getMessage());
        // ...and an escaped one by the configuration reader, with its path.
        ConfigurationException escaped = assertThrows(ConfigurationException.class,
                () -> Engine.validateConfig("{\"connectors\":[{\"id\":\"a\\u0000b\"}]}"));
        assertTrue(escaped.getMessage().contains("connectors[0].id: a string contains a NUL"), escaped.getMessage());
        // A lone surrogate has no UTF-8 form: a typed error, and the JVM goes on.
        assertThrows(UsersyncException.class, () -> Engine.validateConfig("{\"connectors\":[{\"id\":\"a\uD800\"}]}"));
        Engine.validateConfig(VALID);
    }

    static final String VALID = "{\"connectors\":[{\"id\":\"ok\",\"type\":\"csv\",\"source\":{\"path\":\"x.csv\","
            + "\"id_column\":\"id\"},\"mapping\":[{\"target\":\"username\",\"source\":\"user\"}]}]}";
}
