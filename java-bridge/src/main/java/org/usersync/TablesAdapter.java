package org.usersync;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The one object Rust calls for {@link StateTables}: {@code invoke(op, a..e)} translates the
 * arguments (JSON where structured) and answers "0" and JSON, or a status digit and the error.
 * Exceptions never cross back into Rust from here.
 */
final class TablesAdapter {
    private final StateTables tables;

    TablesAdapter(StateTables tables) {
        this.tables = tables;
    }

    String invoke(String op, String a, String b, String c, String d, String e) {
        try {
            return "0" + dispatch(op, a, b, c, d, e);
        } catch (RuntimeException ex) {
            String m = ex.getMessage();
            return "4" + ex.getClass().getSimpleName() + (m == null ? "" : ": " + m);
        }
    }

    private String dispatch(String op, String a, String b, String c, String d, String e) {
        switch (op) {
            case "get": {
                StateTables.Doc doc = tables.get(a, b);
                return doc == null ? "null" : "{\"value\":" + Json.quote(doc.value()) + ",\"version\":" + doc.version() + "}";
            }
            case "scan": {
                List<StateTables.Entry> rows = tables.scan(a, b, c, Boolean.parseBoolean(d), Integer.parseInt(e));
                StringBuilder out = new StringBuilder("[");
                for (StateTables.Entry r : rows) {
                    if (out.length() > 1) {
                        out.append(',');
                    }
                    out.append('[').append(Json.quote(r.key())).append(',').append(Json.quote(r.value())).append(',')
                            .append(r.version()).append(']');
                }
                return out.append(']').toString();
            }
            case "write":
                return Boolean.toString(tables.write(writes(a)));
            case "next_id":
                return Long.toString(tables.nextId(a));
            default:
                throw new IllegalArgumentException("unknown operation " + op);
        }
    }

    private static List<StateTables.Write> writes(String json) {
        List<StateTables.Write> out = new ArrayList<>();
        for (Map<String, Object> w : JsonReader.objects(json)) {
            boolean delete = "delete".equals(w.get("op"));
            Object expect = w.get("expect");
            out.add(new StateTables.Write((String) w.get("table"), (String) w.get("key"),
                    delete ? null : (String) w.get("value"), expect == null ? null : ((Number) expect).longValue()));
        }
        return out;
    }
}
