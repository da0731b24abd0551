package org.usersync;

import java.util.List;

/**
 * Where the engine keeps its state when the host keeps it (the app: the application's database
 * through Active Objects) instead of a SQLite file: tables of text documents under text keys,
 * each with a version. The engine decides what the documents mean; an implementation only stores,
 * orders and compares. Check an implementation with {@link Engine#checkStateTables} before
 * trusting it.
 *
 * <p>The rules: keys compare as Java strings ({@code String.compareTo}); a new document has
 * version 1 and every write adds 1; {@link #write} is atomic — when one expectation fails nothing
 * is written and it answers false, also against writers on other nodes; {@link #nextId} never
 * answers the same number twice for a sequence, across nodes. Calls come from several threads.
 * Throw {@link StateException} (or any runtime exception) when the database fails.
 */
public interface StateTables {
    /** A document's value and version. */
    record Doc(String value, long version) {}

    /** A document under its key. */
    record Entry(String key, String value, long version) {}

    /**
     * One write of a batch. {@code expect}: null writes whatever is there, 0 requires the
     * document to be absent, n requires its version to be n. {@code value} is null for a delete.
     */
    record Write(String table, String key, String value, Long expect) {
        public boolean isDelete() {
            return value == null;
        }
    }

    /** The document, or null. */
    Doc get(String table, String key);

    /**
     * The documents whose key starts with {@code prefix}, in key order (descending when asked),
     * strictly after {@code after} (strictly before it, descending) when it is not null, at most
     * {@code limit}.
     */
    List<Entry> scan(String table, String prefix, String after, boolean descending, int limit);

    /** Applies every write or none; false when an expectation failed. */
    boolean write(List<Write> writes);

    long nextId(String sequence);
}
