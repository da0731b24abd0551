package org.usersync;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a child JVM by EngineTest: starts a run on a worker thread (which attaches to the JVM),
 * waits for it, closes the engine and returns from main. The JVM must then exit by itself.
 */
public final class ExitProbe {
    public static void main(String[] args) throws Exception {
        Path quickstart = Path.of(args[0]);
        Engine engine = new Engine(Path.of(args[1]), Files.readString(quickstart.resolve("config.json")), quickstart,
                new InMemoryDirectory());
        long run = engine.start(null);
        String report = engine.await(run);
        engine.close();
        System.out.println("probe: " + Engine.field(report, "status"));
    }
}
