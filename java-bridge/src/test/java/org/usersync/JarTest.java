package org.usersync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar as it ships (java-bridge/build-jar.sh): it holds the native library and loads it from
 * inside itself, a private copy per class loader, so a plugin that is upgraded or re-enabled (a
 * new class loader in the same JVM) loads it again.
 */
class JarTest {
    static final Path JAR = Path.of(System.getProperty("usersync.jar", "missing.jar"));
    static final Path TEST_CLASSES = Path.of(System.getProperty("usersync.testClasses", "missing"));

    @TempDir
    Path tmp;

    @Test
    void theJarHoldsTheClassesAndTheLibrary() throws IOException {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            assertTrue(jar.getEntry("org/usersync/Engine.class") != null);
            assertTrue(jar.getEntry("org/usersync/NativeLoader.class") != null);
            assertTrue(jar.getEntry("native/linux-x86-64/libusersync.so").getSize() > 1_000_000);
            assertTrue(jar.stream().noneMatch(e -> e.getName().contains("InMemoryDirectory")), "no test class");
        }
    }

    @Test
    void aFreshJvmLoadsTheLibraryFromInsideTheJar() throws Exception {
        // The shim's classes only from the jar; the test classes add the in-memory directory.
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xcheck:jni", "-Dusersync.native.dir=" + tmp.resolve("native"),
                "-cp", JAR + ":" + TEST_CLASSES, "org.usersync.ExitProbe", EngineTest.QUICKSTART.toString(),
                tmp.resolve("probe.db").toString())
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("probe: DONE"), out);
        assertTrue(!out.contains("WARNING in native method"), out);
        // The private copy was deleted once loaded; the checksum-named directory stays.
        try (var dirs = Files.list(tmp.resolve("native"))) {
            List<Path> all = dirs.toList();
            assertEquals(1, all.size(), all.toString());
            try (var files = Files.list(all.get(0))) {
                assertEquals(0, files.count());
            }
        }
    }

    @Test
    void threeClassLoadersInOneJvmEachLoadTheLibraryAndSync() throws Exception {
        String saved = System.getProperty("usersync.library");
        System.clearProperty("usersync.library"); // load from the jar, as in an application
        System.setProperty("usersync.native.dir", tmp.resolve("native").toString());
        List<URLClassLoader> loaders = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                URLClassLoader loader = new URLClassLoader(new URL[] {JAR.toUri().toURL(), TEST_CLASSES.toUri().toURL()},
                        ClassLoader.getPlatformClassLoader());
                loaders.add(loader);
                Class<?> engineClass = loader.loadClass("org.usersync.Engine");
                Class<?> dirInterface = loader.loadClass("org.usersync.Directory");
                Constructor<?> newDir = loader.loadClass("org.usersync.InMemoryDirectory").getDeclaredConstructor();
                newDir.setAccessible(true);
                Object dir = newDir.newInstance();
                Object engine = engineClass.getConstructor(Path.class, String.class, Path.class, dirInterface)
                        .newInstance(tmp.resolve("state-" + i + ".db"), EngineTest.read(EngineTest.QUICKSTART.resolve("config.json")),
                                EngineTest.QUICKSTART, dir);
                try {
                    String report = (String) engineClass.getMethod("sync").invoke(engine);
                    assertTrue(report.contains("\"status\":\"DONE\""), "loader " + i + ": " + report);
                    assertEquals(27, EngineTest.number(report, "created"), report);
                } finally {
                    engineClass.getMethod("close").invoke(engine);
                }
                assertTrue(engineClass != Engine.class, "a class of its own loader");
            }
        } finally {
            for (URLClassLoader l : loaders) {
                l.close();
            }
            if (saved != null) {
                System.setProperty("usersync.library", saved);
            }
            System.clearProperty("usersync.native.dir");
        }
    }
}
