package org.usersync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ABI 2 of the Directory contract as a Java host sees it: batches, look-ups by key, avatars. */
class DirectoryContractTest {
    @TempDir
    Path tmp;

    final EngineTest helpers = new EngineTest();

    @Test
    void writesComeInBatchesAndASingleUserRunReadsItsUserByKey() throws IOException {
        Path csv = tmp.resolve("people.csv");
        helpers.writePeople(csv, 30);
        InMemoryDirectory dir = new InMemoryDirectory();
        try (Engine engine = new Engine(tmp.resolve("s.db"), helpers.smallConfig(csv), null, dir)) {
            String r = engine.sync();
            assertEquals(30, EngineTest.number(r, "created"), r);
            assertTrue(dir.batchesBegun >= 1 && dir.batchesBegun == dir.batchesEnded, dir.batchesBegun + " " + dir.batchesEnded);
            assertEquals(0, dir.writesOutsideBatch);
            assertEquals(1, dir.listCalls, "a full run lists the directory once");
            r = engine.syncUser("user7");
            assertEquals("DONE", Engine.field(r, "status"), r);
            assertEquals(1, dir.listCalls, "a single-user run does not list the directory");
            assertEquals(1, dir.byKeysCalls);
        }
    }

    @Test
    void avatarBytesArriveWhole() {
        InMemoryDirectory dir = new InMemoryDirectory();
        String key = dir.createUser("ann", "Ann", null, true, "1");
        byte[] image = {(byte) 0xff, (byte) 0xd8, 0, 1, (byte) 0x80, 0};
        DirectoryAdapter adapter = new DirectoryAdapter(dir);
        String answer = adapter.invoke("set_avatar", key, Base64.getEncoder().encodeToString(image), null, null, null);
        assertEquals("0", answer);
        assertArrayEquals(image, dir.avatars.get(key));
        // The default of the interface: no avatars, said as UNSUPPORTED.
        // A directory that overrides nothing optional: every default method runs as written.
        Directory plain = (Directory) java.lang.reflect.Proxy.newProxyInstance(Directory.class.getClassLoader(),
                new Class<?>[] {Directory.class}, (proxy, method, args) -> {
                    if (method.isDefault()) {
                        return java.lang.reflect.InvocationHandler.invokeDefault(proxy, method, args);
                    }
                    throw new AssertionError("not needed here: " + method.getName());
                });
        assertTrue(new DirectoryAdapter(plain).invoke("set_avatar", "k", "AA==", null, null, null).startsWith("3"));
    }
}
