package org.usersync;

import java.lang.management.ManagementFactory;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Java phase of the benchmark (java-bridge/bench.sh): what a directory call costs when it
 * crosses JNI, and a whole sync through the shim into an in-memory Java directory. It prints
 * figures and asserts nothing.
 *
 * <ul>
 *   <li>crossing: the same read-only call ({@code find_user} of an unknown name: one string
 *       in, a short answer out) made N times from Rust through the shim, and N times straight
 *       from Java to the same adapter; the difference per call is what crossing costs.
 *   <li>sync: a CSV of U people with the quick start's mapping synced into the in-memory
 *       directory, then again (nothing to write); wall time, process CPU, directory calls, the
 *       time spent inside the Java directory, and the crossing's estimated share.
 * </ul>
 */
public final class ShimBenchmark {
    private ShimBenchmark() {}

    /** Counts the directory calls that reach Java and the time spent inside them. */
    static Directory counted(Directory inner, AtomicLong calls, AtomicLong nanos) {
        return (Directory) Proxy.newProxyInstance(Directory.class.getClassLoader(), new Class<?>[] {Directory.class},
                (proxy, method, args) -> {
                    long t = System.nanoTime();
                    try {
                        return method.invoke(inner, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    } finally {
                        nanos.addAndGet(System.nanoTime() - t);
                        calls.incrementAndGet();
                    }
                });
    }

    static double processCpuSeconds() {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return os.getProcessCpuTime() / 1e9;
    }

    static void writePeople(Path csv, int n) throws java.io.IOException {
        String[] departments = {"Engineering", "Support", "Sales", "Marketing", "Finance", "HR", "IT"};
        StringBuilder b = new StringBuilder(
                "employeeId,upn,givenName,surname,mail,department,title,phone,office,manager,status,groups\n");
        for (int i = 1; i <= n; i++) {
            String dept = departments[i % departments.length];
            String manager = i > 10 ? "user" + (i % 10 + 1) + "@example.com" : "";
            b.append(100000 + i).append(",user").append(i).append("@example.com,Given").append(i).append(",Sur")
                    .append(i).append(",user").append(i).append("@example.com,").append(dept).append(",Engineer,+45 3311 ")
                    .append(i % 10000).append(",Copenhagen,").append(manager).append(',')
                    .append(i % 50 == 0 ? "inactive" : "active").append(',').append(dept)
                    .append(i % 10 == 0 ? ";Leads" : "").append('\n');
        }
        Files.writeString(csv, b.toString());
    }

    public static void main(String[] args) throws Exception {
        int users = 20000;
        int calls = 200000;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--users" -> users = Integer.parseInt(args[i + 1]);
                case "--calls" -> calls = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        NativeEngine.ensureLoaded();

        // Crossing: warm both paths first (JIT), then measure each twice and keep the faster.
        DirectoryAdapter adapter = new DirectoryAdapter(new InMemoryDirectory());
        long fromRust = Long.MAX_VALUE;
        long fromJava = Long.MAX_VALUE;
        int sink = 0;
        for (int round = 0; round < 5; round++) {
            fromRust = Math.min(fromRust, NativeEngine.timeDirectoryCalls(adapter, "find_user", "nobody", calls));
            long t = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                sink += adapter.invoke("find_user", "nobody", null, null, null, null).length();
            }
            fromJava = Math.min(fromJava, System.nanoTime() - t);
        }
        double crossingUs = (fromRust - fromJava) / 1e3 / calls;
        System.out.printf("crossing: %d find_user calls: from Rust %.3f us/call, from Java %.3f us/call, "
                + "crossing %.3f us/call (answer bytes %d)%n", calls, fromRust / 1e3 / calls, fromJava / 1e3 / calls,
                crossingUs, sink / (5 * calls));

        Path tmp = Files.createTempDirectory("usersync-shim-bench");
        try {
            Path csv = tmp.resolve("people.csv");
            writePeople(csv, users);
            Path repo = Path.of(System.getProperty("usersync.repo", "."));
            String config = Files.readString(repo.resolve("examples/quickstart/config.json"), StandardCharsets.UTF_8);
            AtomicLong dirCalls = new AtomicLong();
            AtomicLong dirNanos = new AtomicLong();
            Directory dir = counted(new InMemoryDirectory(), dirCalls, dirNanos);
            try (Engine engine = new Engine(tmp.resolve("state.db"), config, tmp, dir)) {
                for (String phase : new String[] {"full", "noop"}) {
                    dirCalls.set(0);
                    dirNanos.set(0);
                    DirectoryAdapter.CROSSINGS.reset();
                    double cpu = processCpuSeconds();
                    long t = System.nanoTime();
                    String report = engine.sync();
                    double wall = (System.nanoTime() - t) / 1e9;
                    cpu = processCpuSeconds() - cpu;
                    long n = dirCalls.get();
                    long crossings = DirectoryAdapter.CROSSINGS.sum();
                    double inside = dirNanos.get() / 1e9;
                    double crossing = crossings * crossingUs / 1e6;
                    System.out.printf("sync %s: %d users, wall %.2f s, process CPU %.2f s, %d directory operations "
                            + "in %d crossings, %.2f s inside the Java directory, crossing about %.2f s (%.1f%% of "
                            + "wall), status %s%n", phase, users, wall, cpu, n, crossings, inside, crossing,
                            wall > 0 ? 100 * crossing / wall : 0, status(report));
                }
            }
        } finally {
            try (var paths = Files.walk(tmp)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static String status(String report) {
        int i = report.indexOf("\"status\":\"");
        return i < 0 ? "?" : report.substring(i + 10, report.indexOf('"', i + 10));
    }
}
