package org.usersync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.ref.WeakReference;
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
    void threeClassLoadersInOneJvmEachLoadTheLibraryAndSyncAndAreCollected() throws Exception {
        String saved = System.getProperty("usersync.library");
        System.clearProperty("usersync.library"); // load from the jar, as in an application
        System.setProperty("usersync.native.dir", tmp.resolve("native").toString());
        List<WeakReference<ClassLoader>> gone = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                gone.add(enableSyncDisable(i));
            }
        } finally {
            if (saved != null) {
                System.setProperty("usersync.library", saved);
            }
            System.clearProperty("usersync.native.dir");
        }
        // Disabled (engine closed, loader closed): nothing the library holds keeps a loader alive.
        for (int tries = 0; tries < 100 && gone.stream().anyMatch(r -> r.get() != null); tries++) {
            System.gc();
            Thread.sleep(50);
        }
        assertTrue(gone.stream().allMatch(r -> r.get() == null), "a disabled plugin's class loader was not collected");
    }

    /**
     * One plugin life: a class loader of its own, a log sink and an engine, a sync, then what
     * disabling does (close the engine, clear the sink). The sink is the library's one global
     * reference into the loader beyond the engine's directory: were it left, the loader could not
     * be collected.
     */
    private WeakReference<ClassLoader> enableSyncDisable(int i) throws Exception {
        try (URLClassLoader loader = new URLClassLoader(new URL[] {JAR.toUri().toURL(), TEST_CLASSES.toUri().toURL()},
                ClassLoader.getPlatformClassLoader())) {
            Class<?> engineClass = loader.loadClass("org.usersync.Engine");
            assertTrue(engineClass != Engine.class, "a class of its own loader");
            Class<?> sinkInterface = loader.loadClass("org.usersync.LogSink");
            List<String> lines = new ArrayList<>();
            Object sink = java.lang.reflect.Proxy.newProxyInstance(loader, new Class<?>[] {sinkInterface},
                    (proxy, method, args) -> {
                        if (method.getName().equals("log")) {
                            synchronized (lines) {
                                lines.add(String.valueOf(args[args.length - 1]));
                            }
                        }
                        return null;
                    });
            @SuppressWarnings({"unchecked", "rawtypes"})
            Object info = Enum.valueOf((Class) loader.loadClass("org.usersync.Engine$Level"), "INFO");
            engineClass.getMethod("setLogSink", sinkInterface, info.getClass()).invoke(null, sink, info);
            Class<?> dirInterface = loader.loadClass("org.usersync.Directory");
            Constructor<?> newDir = loader.loadClass("org.usersync.InMemoryDirectory").getDeclaredConstructor();
            newDir.setAccessible(true);
            Object engine = engineClass.getConstructor(Path.class, String.class, Path.class, dirInterface)
                    .newInstance(tmp.resolve("state-" + i + ".db"), EngineTest.read(EngineTest.QUICKSTART.resolve("config.json")),
                            EngineTest.QUICKSTART, newDir.newInstance());
            try {
                String report = (String) engineClass.getMethod("sync").invoke(engine);
                assertTrue(report.contains("\"status\":\"DONE\""), "loader " + i + ": " + report);
                assertEquals(27, EngineTest.number(report, "created"), report);
            } finally {
                engineClass.getMethod("close").invoke(engine);
                engineClass.getMethod("clearLogSink").invoke(null);
            }
            synchronized (lines) {
                assertTrue(lines.stream().anyMatch(l -> l.contains("started")), "this loader's sink got the run's lines");
            }
            return new WeakReference<>(loader);
        }
    }
}
