package org.usersync.atlassian;

import com.atlassian.sal.api.ApplicationProperties;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** A node's homes (SAL ApplicationProperties): its own local home, and the cluster's shared one. */
public final class FakeHome implements ApplicationProperties {
    private final Path local;
    private final Path shared;

    public FakeHome(Path local, Path shared) {
        this.local = local;
        this.shared = shared;
    }

    @Override
    public Optional<Path> getLocalHomeDirectory() {
        return Optional.of(local);
    }

    @Override
    public Optional<Path> getSharedHomeDirectory() {
        return Optional.of(shared);
    }

    /** Writes the app's configuration and settings where the app reads them. */
    public void configure(String configJson, String appProperties) throws IOException {
        Path dir = shared.resolve("usersync");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), configJson, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("app.properties"), appProperties, StandardCharsets.UTF_8);
    }
}
