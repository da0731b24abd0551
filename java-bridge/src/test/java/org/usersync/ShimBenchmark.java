package org.usersync;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Java phase of the benchmark (java-bridge/bench.sh): what a directory call costs when it
 * crosses JNI, and a whole sync through the shim into an in-memory Java directory. It prints
 * figures and asserts nothing.
 *
 * <ul>
 *   <li>crossing: the same read-only call ({@code find_user} of an unknown name: one string
 *       in, a short answer out) made N times from Rust through the shim into the Java directory,
 *       and N times into the same directory written in Rust; the difference per call is what
 *       crossing costs.
 *   <li>sync: a CSV of U people with the quick start's mapping synced into the in-memory
 *       directory, then again (nothing to write); wall time, process CPU, directory calls and the
 *       time spent inside the Java directory. Then the same sync into the same directory written
 *       in Rust ({@code MemoryDirectory}), with no crossing: the difference in the time spent
 *       outside the directory, per operation, is what crossing costs.
 * </ul>
 */
public final class ShimBenchmark {
    private ShimBenchmark() {}

    /**
     * Counts the directory calls that reach Java and the time spent inside them. Plain delegation,
     * not a reflective proxy: what the wrapper itself costs would be counted as crossing.
     */
    static final class Counting implements Directory {
        final Directory inner;
        final AtomicLong calls = new AtomicLong();
        final AtomicLong nanos = new AtomicLong();

        Counting(Directory inner) {
            this.inner = inner;
        }

        private <T> T timed(java.util.function.Supplier<T> call) {
            long t = System.nanoTime();
            try {
                return call.get();
            } finally {
                nanos.addAndGet(System.nanoTime() - t);
                calls.incrementAndGet();
            }
        }

        private void timed(Runnable call) {
            timed(() -> {
                call.run();
                return null;
            });
        }

        @Override public Capabilities capabilities() { return timed(inner::capabilities); }
        @Override public java.util.List<DirectoryUser> listUsers() { return timed(inner::listUsers); }
        @Override public DirectoryUser findUser(String u) { return timed(() -> inner.findUser(u)); }
        @Override public DirectoryUser findByExternalId(String id) { return timed(() -> inner.findByExternalId(id)); }
        @Override public java.util.List<DirectoryUser> usersByKeys(java.util.Collection<String> keys) {
            return timed(() -> inner.usersByKeys(keys));
        }
        @Override public void beginBatch() { timed(inner::beginBatch); }
        @Override public void endBatch() { timed(inner::endBatch); }
        @Override public void setAvatar(String key, byte[] image) { timed(() -> inner.setAvatar(key, image)); }
        @Override public java.util.Set<String> listGroups() { return timed(inner::listGroups); }
        @Override public String createUser(String u, String d, String e, boolean a, String x) {
            return timed(() -> inner.createUser(u, d, e, a, x));
        }
        @Override public void updateCore(String k, String t, String v) { timed(() -> inner.updateCore(k, t, v)); }
        @Override public void rename(String k, String u) { timed(() -> inner.rename(k, u)); }
        @Override public void setActive(String k, boolean a) { timed(() -> inner.setActive(k, a)); }
        @Override public void deleteUser(String k) { timed(() -> inner.deleteUser(k)); }
        @Override public String anonymise(String k) { return timed(() -> inner.anonymise(k)); }
        @Override public void setField(String k, String t, String v) { timed(() -> inner.setField(k, t, v)); }
        @Override public void addMembership(String k, String g) { timed(() -> inner.addMembership(k, g)); }
        @Override public void removeMembership(String k, String g) { timed(() -> inner.removeMembership(k, g)); }
        @Override public void createGroup(String n) { timed(() -> inner.createGroup(n)); }
        @Override public boolean tryLock(String n, long ttl) { return timed(() -> inner.tryLock(n, ttl)); }
        @Override public void unlock(String n) { timed(() -> inner.unlock(n)); }
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

        // Crossing: warm every path first (JIT), then keep the best of five rounds each.
        DirectoryAdapter adapter = new DirectoryAdapter(new InMemoryDirectory());
        long fromRust = Long.MAX_VALUE;
        long fromJava = Long.MAX_VALUE;
        long rustOnly = Long.MAX_VALUE;
        int sink = 0;
        for (int round = 0; round < 5; round++) {
            fromRust = Math.min(fromRust, NativeEngine.timeDirectoryCalls(adapter, "find_user", "nobody", calls));
            rustOnly = Math.min(rustOnly, NativeEngine.timeRustDirectoryCalls("find_user", "nobody", calls));
            long t = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                sink += adapter.invoke("find_user", "nobody", null, null, null, null).length();
            }
            fromJava = Math.min(fromJava, System.nanoTime() - t);
        }
        double perCall = 1e3 * calls;
        System.out.printf("crossing: %d find_user calls from Rust: into the Java directory %.3f us/call, into the "
                + "same directory in Rust %.3f us/call: crossing %.3f us/call (the Java adapter called from Java: "
                + "%.3f us/call; answer bytes %d)%n", calls, fromRust / perCall, rustOnly / perCall,
                (fromRust - rustOnly) / perCall, fromJava / perCall, sink / (5 * calls));

        Path repo = Path.of(System.getProperty("usersync.repo", "."));
        String config = Files.readString(repo.resolve("examples/quickstart/config.json"), StandardCharsets.UTF_8);
        // Two rounds, each on a fresh state and fresh directories: the first also warms the JIT.
        for (int round = 1; round <= 2; round++) {
            Path tmp = Files.createTempDirectory("usersync-shim-bench");
            try {
                writePeople(tmp.resolve("people.csv"), users);
                Counting dir = new Counting(new InMemoryDirectory());
                double[][] shim = new double[2][];
                try (Engine engine = new Engine(tmp.resolve("state.db"), config, tmp, dir)) {
                    for (int phase = 0; phase < 2; phase++) {
                        dir.calls.set(0);
                        dir.nanos.set(0);
                        DirectoryAdapter.CROSSINGS.reset();
                        double cpu = processCpuSeconds();
                        long t = System.nanoTime();
                        String report = engine.sync();
                        double wall = (System.nanoTime() - t) / 1e9;
                        cpu = processCpuSeconds() - cpu;
                        shim[phase] = new double[] {wall, cpu, dir.calls.get(), DirectoryAdapter.CROSSINGS.sum(),
                            dir.nanos.get() / 1e9};
                        System.out.printf("round %d, sync %s through the shim: %d users, wall %.3f s, process CPU "
                                + "%.2f s, %d directory operations in %d crossings, %.3f s inside the Java "
                                + "directory, status %s%n", round, PHASES[phase], users, wall, cpu,
                                (long) shim[phase][2], (long) shim[phase][3], shim[phase][4], status(report));
                    }
                }
                List<Map<String, Object>> rust = JsonReader.objects(NativeEngine.syncRustDirectory(
                        tmp.resolve("rust-state.db").toString(), config, tmp.toString(), 2));
                for (int phase = 0; phase < 2; phase++) {
                    Map<String, Object> r = rust.get(phase);
                    double wall = number(r, "wall_s");
                    double inside = number(r, "inside_s");
                    long ops = (long) number(r, "operations");
                    // What the engine spends outside the directory, with and without the crossing.
                    double outsideShim = shim[phase][0] - shim[phase][4];
                    double outsideRust = wall - inside;
                    // A noop's few operations carry every user (the listing): per user is its measure.
                    double crossing = outsideShim - outsideRust;
                    System.out.printf("round %d, sync %s in Rust: wall %.3f s, process CPU %.2f s, %d directory "
                            + "operations, %.3f s inside the Rust directory, status %s; crossing %.3f s: %.3f us "
                            + "per operation, %.3f us per user (wall outside the directory: shim %.3f s, Rust "
                            + "%.3f s)%n", round, PHASES[phase], wall, number(r, "process_cpu_s"), ops, inside,
                            r.get("status"), crossing, 1e6 * crossing / Math.max(1, shim[phase][2]),
                            1e6 * crossing / users, outsideShim, outsideRust);
                }
            } finally {
                try (var paths = Files.walk(tmp)) {
                    paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    static final String[] PHASES = {"full", "noop"};

    static double number(Map<String, Object> o, String name) {
        return ((Number) o.get(name)).doubleValue();
    }

    static String status(String report) {
        int i = report.indexOf("\"status\":\"");
        return i < 0 ? "?" : report.substring(i + 10, report.indexOf('"', i + 10));
    }
}
