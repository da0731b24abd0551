package org.usersync.atlassian.ao;

import com.atlassian.activeobjects.external.ActiveObjects;
import com.atlassian.beehive.ClusterLock;
import com.atlassian.beehive.ClusterLockService;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import net.java.ao.DBParam;
import net.java.ao.Query;
import org.usersync.StateTables;

/**
 * The engine's state tables in the application's database, through Active Objects: every node
 * of a Data Center cluster sees the same state. Writes run in one database transaction under
 * one cluster lock, so a compare-and-set holds across nodes whatever the database's isolation
 * level; reads take no lock. Documents of the configuration table are encrypted
 * ({@link SecretBox}): it holds the connectors' secrets.
 */
public final class AoStateTables implements StateTables {
    static final String SEQUENCES = "__sequences";
    private static final String WRITE_LOCK = "org.usersync.state-tables";
    private static final HexFormat HEX = HexFormat.of();
    /** Greater than every hex digit, in every collation: the end of a prefix's key range. */
    private static final String AFTER_HEX = "g";

    private final ActiveObjects ao;
    private final ClusterLockService locks;
    private final SecretBox secrets;

    public AoStateTables(ActiveObjects ao, ClusterLockService locks, SecretBox secrets) {
        this.ao = ao;
        this.locks = locks;
        this.secrets = secrets;
    }

    static String hex(String key) {
        return HEX.formatHex(key.getBytes(StandardCharsets.UTF_8));
    }

    static String unhex(String stored) {
        return new String(HEX.parseHex(stored), StandardCharsets.UTF_8);
    }

    /** The configuration's table (also inside a self-check's namespace) holds secrets. */
    private static boolean secret(String table) {
        return table.equals("config") || table.endsWith(".config");
    }

    private String read(String table, StateDoc d) {
        return secret(table) ? secrets.open(d.getDocValue()) : d.getDocValue();
    }

    private StateDoc find(String table, String key) {
        StateDoc[] found = ao.find(StateDoc.class,
                Query.select().where("TABLE_NAME = ? AND DOC_KEY = ?", table, hex(key)).limit(2));
        if (found.length > 1) {
            throw new IllegalStateException("two documents under one key in " + table);
        }
        return found.length == 0 ? null : found[0];
    }

    @Override
    public Doc get(String table, String key) {
        StateDoc d = find(table, key);
        return d == null ? null : new Doc(read(table, d), d.getDocVersion());
    }

    @Override
    public List<Entry> scan(String table, String prefix, String after, boolean descending, int limit) {
        String low = hex(prefix);
        String high = low + AFTER_HEX;
        StringBuilder where = new StringBuilder("TABLE_NAME = ? AND DOC_KEY >= ? AND DOC_KEY < ?");
        List<Object> params = new ArrayList<>(List.of(table, low, high));
        if (after != null) {
            where.append(descending ? " AND DOC_KEY < ?" : " AND DOC_KEY > ?");
            params.add(hex(after));
        }
        Query q = Query.select().where(where.toString(), params.toArray())
                .order("DOC_KEY " + (descending ? "DESC" : "ASC")).limit(limit);
        List<Entry> out = new ArrayList<>();
        for (StateDoc d : ao.find(StateDoc.class, q)) {
            out.add(new Entry(unhex(d.getDocKey()), read(table, d), d.getDocVersion()));
        }
        return out;
    }

    @Override
    public boolean write(List<Write> writes) {
        return locked(() -> ao.executeInTransaction(() -> {
            for (Write w : writes) {
                Long expect = w.expect();
                if (expect != null) {
                    StateDoc d = find(w.table(), w.key());
                    if (expect == 0 ? d != null : d == null || d.getDocVersion() != expect) {
                        return false;
                    }
                }
            }
            for (Write w : writes) {
                StateDoc d = find(w.table(), w.key());
                if (w.isDelete()) {
                    if (d != null) {
                        ao.delete(d);
                    }
                    continue;
                }
                String value = secret(w.table()) ? secrets.seal(w.value()) : w.value();
                if (d == null) {
                    ao.create(StateDoc.class, new DBParam("TABLE_NAME", w.table()), new DBParam("DOC_KEY", hex(w.key())),
                            new DBParam("DOC_VALUE", value), new DBParam("DOC_VERSION", 1L));
                } else {
                    d.setDocValue(value);
                    d.setDocVersion(d.getDocVersion() + 1);
                    d.save();
                }
            }
            return true;
        }));
    }

    @Override
    public long nextId(String sequence) {
        return locked(() -> ao.executeInTransaction(() -> {
            StateDoc d = find(SEQUENCES, sequence);
            if (d == null) {
                ao.create(StateDoc.class, new DBParam("TABLE_NAME", SEQUENCES), new DBParam("DOC_KEY", hex(sequence)),
                        new DBParam("DOC_VALUE", "1"), new DBParam("DOC_VERSION", 1L));
                return 1L;
            }
            long next = Long.parseLong(d.getDocValue()) + 1;
            d.setDocValue(Long.toString(next));
            d.setDocVersion(d.getDocVersion() + 1);
            d.save();
            return next;
        }));
    }

    private <T> T locked(java.util.function.Supplier<T> work) {
        ClusterLock lock = locks.getLockForName(WRITE_LOCK);
        lock.lock();
        try {
            return work.get();
        } finally {
            lock.unlock();
        }
    }
}
