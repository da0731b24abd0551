// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Active Objects 5.0 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/DAC/javadoc/ao/5.0/net/java/ao/Query.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package net.java.ao;

/** A value class: a SELECT's WHERE clause with its parameters, ORDER BY and LIMIT. */
public class Query {
    private String whereClause;
    private Object[] whereParams = new Object[0];
    private String orderClause;
    private int limit = -1;

    public static Query select() {
        return new Query();
    }

    public Query where(String clause, Object... params) {
        this.whereClause = clause;
        this.whereParams = params;
        return this;
    }

    public Query order(String clause) {
        this.orderClause = clause;
        return this;
    }

    public Query limit(int limit) {
        this.limit = limit;
        return this;
    }

    public String getWhereClause() { return whereClause; }

    public Object[] getWhereParams() { return whereParams; }

    public String getOrderClause() { return orderClause; }

    public int getLimit() { return limit; }
}
