package org.usersync.atlassian.ao;

import com.atlassian.activeobjects.external.ActiveObjects;
import com.atlassian.sal.api.transaction.TransactionCallback;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.java.ao.DBParam;
import net.java.ao.Query;
import net.java.ao.RawEntity;
import net.java.ao.schema.StringLength;

/**
 * A database behind Active Objects, in memory, shared by the fake nodes that hold it. Modelled
 * rules (Active Objects 5.0 Javadoc and "Active Objects" developer guide):
 * <ul>
 * <li>an entity is an interface; getters and setters map to columns named in upper snake case
 *     (getDocKey → DOC_KEY), {@code getID} to the primary key;</li>
 * <li>a setter changes the entity object only; {@code save()} writes it (RawEntity#save);</li>
 * <li>a String column holds at most 255 characters unless {@code @StringLength} says more;
 *     {@code UNLIMITED} is a CLOB; a longer value is refused by the database;</li>
 * <li>{@code executeInTransaction} rolls everything back when the callback throws;</li>
 * <li>{@code find} takes a WHERE clause of the SQL the database runs: only the comparisons this
 *     app writes ({@code COL = ?}, {@code >=}, {@code >}, {@code <} joined by AND), one ORDER BY
 *     column and LIMIT are understood — anything else is refused rather than guessed. Strings
 *     compare by code unit, as a binary collation does.</li>
 * </ul>
 * Transactions of concurrent callers are not isolated from each other: callers that need that
 * take a lock (the app does: a cluster lock around writes).
 */
public final class FakeActiveObjects implements ActiveObjects {
    // By entity name, not Class: the database outlives the plugin class loader that defined the entity.
    private final Map<String, TreeMap<Integer, Map<String, Object>>> tables = new HashMap<>();
    private int nextId = 1;
    public int finds;
    public int transactions;

    static String column(Method m) {
        String n = m.getName().replaceFirst("^(get|set|is)", "");
        if (n.equals("ID")) {
            return "ID";
        }
        return n.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(java.util.Locale.ROOT);
    }

    private static int maxLength(Class<?> type, String column) {
        for (Method m : type.getMethods()) {
            if (m.getName().startsWith("get") && column(m).equals(column)) {
                StringLength l = m.getAnnotation(StringLength.class);
                return l == null ? 255 : l.value() == StringLength.UNLIMITED ? Integer.MAX_VALUE : l.value();
            }
        }
        throw new IllegalArgumentException("no column " + column + " in " + type.getSimpleName());
    }

    private static void checkLength(Class<?> type, String column, Object value) {
        if (value instanceof String s && s.length() > maxLength(type, column)) {
            throw new IllegalStateException("value too long for column " + column + " (" + s.length() + " characters)");
        }
    }

    /** The stored rows of an entity type, as the database holds them (for tests that look inside). */
    public synchronized List<Map<String, Object>> rows(Class<?> type) {
        List<Map<String, Object>> out = new ArrayList<>();
        tables.getOrDefault(type.getName(), new TreeMap<>()).values().forEach(r -> out.add(new TreeMap<>(r)));
        return out;
    }

    @SuppressWarnings("unchecked")
    private synchronized <T> T entity(Class<T> type, int id) {
        Map<String, Object> pending = new HashMap<>();
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, m, args) -> {
            String name = m.getName();
            if (name.equals("save")) {
                synchronized (FakeActiveObjects.this) {
                    Map<String, Object> row = tables.get(type.getName()).get(id);
                    if (row == null) {
                        throw new IllegalStateException("the row was deleted");
                    }
                    pending.forEach((c, v) -> checkLength(type, c, v));
                    row.putAll(pending);
                    pending.clear();
                }
                return null;
            }
            if (name.equals("hashCode")) {
                return id;
            }
            if (name.equals("equals")) {
                return proxy == args[0];
            }
            if (name.equals("toString")) {
                return type.getSimpleName() + "#" + id;
            }
            String col = column(m);
            if (name.startsWith("set")) {
                pending.put(col, args[0]);
                return null;
            }
            if (pending.containsKey(col)) {
                return pending.get(col);
            }
            synchronized (FakeActiveObjects.this) {
                Map<String, Object> row = tables.get(type.getName()).get(id);
                Object v = row == null ? null : row.get(col);
                if (v == null && m.getReturnType() == long.class) {
                    return 0L;
                }
                return v;
            }
        });
    }

    @Override
    public synchronized <T extends RawEntity<K>, K> T create(Class<T> type, DBParam... params) {
        Map<String, Object> row = new HashMap<>();
        for (DBParam p : params) {
            checkLength(type, p.getField(), p.getValue());
            row.put(p.getField(), p.getValue());
        }
        int id = nextId++;
        row.put("ID", id);
        tables.computeIfAbsent(type.getName(), t -> new TreeMap<>()).put(id, row);
        return entity(type, id);
    }

    private static final Pattern CONDITION = Pattern.compile("\\s*([A-Z_]+)\\s*(=|>=|>|<)\\s*\\?\\s*");

    @Override
    @SuppressWarnings("unchecked")
    public synchronized <T extends RawEntity<K>, K> T[] find(Class<T> type, Query query) {
        finds++;
        List<Map<String, Object>> rows = new ArrayList<>(tables.getOrDefault(type.getName(), new TreeMap<>()).values());
        Object[] params = query.getWhereParams();
        String where = query.getWhereClause();
        if (where != null) {
            String[] parts = where.split("\\s+AND\\s+");
            if (parts.length != params.length) {
                throw new IllegalArgumentException("the fake database does not understand: " + where);
            }
            for (int i = 0; i < parts.length; i++) {
                Matcher m = CONDITION.matcher(parts[i]);
                if (!m.matches()) {
                    throw new IllegalArgumentException("the fake database does not understand: " + parts[i]);
                }
                String col = m.group(1);
                String op = m.group(2);
                Comparable<Object> value = (Comparable<Object>) params[i];
                rows.removeIf(r -> {
                    Object v = r.get(col);
                    if (v == null) {
                        return true;
                    }
                    int c = ((Comparable<Object>) v).compareTo(value);
                    return !switch (op) {
                        case "=" -> c == 0;
                        case ">=" -> c >= 0;
                        case ">" -> c > 0;
                        default -> c < 0;
                    };
                });
            }
        }
        if (query.getOrderClause() != null) {
            String[] o = query.getOrderClause().trim().split("\\s+");
            Comparator<Map<String, Object>> by = Comparator.comparing(r -> (Comparable<Object>) r.get(o[0]));
            rows.sort(o.length > 1 && o[1].equalsIgnoreCase("DESC") ? by.reversed() : by);
        }
        if (query.getLimit() >= 0 && rows.size() > query.getLimit()) {
            rows = rows.subList(0, query.getLimit());
        }
        T[] out = (T[]) Array.newInstance(type, rows.size());
        for (int i = 0; i < rows.size(); i++) {
            out[i] = entity(type, (Integer) rows.get(i).get("ID"));
        }
        return out;
    }

    @Override
    public synchronized void delete(RawEntity<?>... entities) {
        for (RawEntity<?> e : entities) {
            int id = e.hashCode();
            for (TreeMap<Integer, Map<String, Object>> t : tables.values()) {
                t.remove(id);
            }
        }
    }

    @Override
    public <T> T executeInTransaction(TransactionCallback<T> callback) {
        Map<String, TreeMap<Integer, Map<String, Object>>> before;
        synchronized (this) {
            transactions++;
            before = copy();
        }
        try {
            return callback.doInTransaction();
        } catch (RuntimeException e) {
            synchronized (this) {
                tables.clear();
                tables.putAll(before);
            }
            throw e;
        }
    }

    private Map<String, TreeMap<Integer, Map<String, Object>>> copy() {
        Map<String, TreeMap<Integer, Map<String, Object>>> c = new HashMap<>();
        tables.forEach((k, v) -> {
            TreeMap<Integer, Map<String, Object>> t = new TreeMap<>();
            v.forEach((id, row) -> t.put(id, new HashMap<>(row)));
            c.put(k, t);
        });
        return c;
    }
}
