package org.usersync;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.UUID;

/**
 * Loads the native library for the class loader that loads this class. A JVM lets one native
 * library file be loaded by one class loader at a time, and an Atlassian plugin gets a new class
 * loader on every upgrade or re-enable: so each loader loads its own copy. The copy is made in a
 * private directory named by the library's checksum (two versions never collide), loaded, and
 * deleted at once (the mapping stays; nothing piles up on disk).
 *
 * <p>The library comes from the file named by the system property {@code usersync.library} when
 * it is set (development, tests), otherwise from this jar's
 * {@code native/<os>-<arch>/libusersync.so}. The private directory is the one given to
 * {@link Engine#useNativeDirectory} (the app passes one under the application's home), else
 * {@code usersync.native.dir}, else {@code <java.io.tmpdir>/usersync-native-<user>}.
 */
final class NativeLoader {
    /** Set by {@link Engine#useNativeDirectory}: per class loader, unlike a system property. */
    static volatile Path directory;

    private NativeLoader() {}

    static void load() {
        byte[] library = read();
        try {
            Path dir = privateDir().resolve(checksum(library));
            Files.createDirectories(dir);
            Path copy = dir.resolve("libusersync-" + UUID.randomUUID() + ".so");
            Path partial = dir.resolve(copy.getFileName() + ".part");
            Files.write(partial, library);
            Files.move(partial, copy, StandardCopyOption.ATOMIC_MOVE);
            try {
                System.load(copy.toString());
            } finally {
                Files.deleteIfExists(copy);
            }
        } catch (IOException e) {
            throw linkError("cannot write the usersync library to a private directory: " + e, e);
        }
    }

    /** Where the library comes from: the file in {@code usersync.library}, or this jar. */
    private static byte[] read() {
        String path = System.getProperty("usersync.library");
        try {
            if (path != null && !path.isEmpty()) {
                return Files.readAllBytes(Path.of(path));
            }
            String resource = "/native/" + platform() + "/libusersync.so";
            try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw linkError("this jar has no usersync library for " + platform() + " (" + resource
                            + "); docs/ARCHITECTURE.md says how to add a platform", null);
                }
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw linkError("cannot read the usersync library: " + e, e);
        }
    }

    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.contains("linux") ? "linux" : os.replaceAll("[^a-z]", "");
        String a = arch.equals("amd64") || arch.equals("x86_64") ? "x86-64" : arch.equals("aarch64") ? "aarch64" : arch;
        return o + "-" + a;
    }

    private static Path privateDir() throws IOException {
        String configured = System.getProperty("usersync.native.dir");
        Path dir = directory != null ? directory
                : configured != null && !configured.isEmpty() ? Path.of(configured)
                : Path.of(System.getProperty("java.io.tmpdir"), "usersync-native-" + System.getProperty("user.name", "user"));
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            try {
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            } catch (UnsupportedOperationException e) {
                // Not a POSIX file system: the directory stays as created.
            }
        }
        return dir;
    }

    private static String checksum(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }

    private static UnsatisfiedLinkError linkError(String message, Throwable cause) {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError(message);
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }
}
