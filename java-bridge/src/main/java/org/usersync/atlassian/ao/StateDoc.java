package org.usersync.atlassian.ao;

import net.java.ao.Entity;
import net.java.ao.schema.Indexed;
import net.java.ao.schema.NotNull;
import net.java.ao.schema.StringLength;
import net.java.ao.schema.Table;

/**
 * One document of the engine's state in the application's database (Active Objects names the
 * table AO_<hash>_STATE_DOC). Keys are stored hex-encoded (UTF-8): their order is then the same
 * under every database collation, including the case-insensitive ones of MySQL and SQL Server.
 */
@Table("STATE_DOC")
public interface StateDoc extends Entity {
    @NotNull
    @Indexed
    @StringLength(64)
    String getTableName();

    void setTableName(String name);

    @NotNull
    @Indexed
    @StringLength(450)
    String getDocKey();

    void setDocKey(String key);

    @StringLength(StringLength.UNLIMITED)
    String getDocValue();

    void setDocValue(String value);

    long getDocVersion();

    void setDocVersion(long version);
}
