package org.usersync.atlassian;

import com.atlassian.sal.api.ApplicationProperties;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Where the app keeps its files. In the shared home (every Data Center node sees it):
 * {@code usersync/config.json} (a configuration to import into the database at the next start,
 * then moved to {@code config.json.imported}), {@code usersync/app.properties} (the
 * app's own settings) and {@code usersync/secret.key} (the key that encrypts secrets in the
 * database; it is not in the database). In this node's local home: {@code usersync/native},
 * where the native library is copied before it is loaded. The engine's state is in the
 * application's database.
 */
public record AppHome(Path shared, Path local) {
    public static AppHome of(ApplicationProperties properties) {
        Path local = properties.getLocalHomeDirectory()
                .orElseThrow(() -> new IllegalStateException("the application reports no home directory"));
        Path shared = properties.getSharedHomeDirectory().orElse(local);
        return new AppHome(shared.resolve("usersync"), local.resolve("usersync"));
    }

    public Path config() {
        return shared.resolve("config.json");
    }

    /** Where an imported configuration file is set aside (owner-only, as written). */
    public Path importedConfig() {
        return shared.resolve("config.json.imported");
    }

    public Path secretKey() {
        return shared.resolve("secret.key");
    }

    public Path nativeDir() {
        return local.resolve("native");
    }

    /** The app's settings; empty when the file is missing. */
    public Properties settings() throws IOException {
        Properties p = new Properties();
        Path file = shared.resolve("app.properties");
        if (Files.exists(file)) {
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(r);
            }
        }
        return p;
    }
}
