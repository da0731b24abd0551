package org.usersync.confluence;

import com.atlassian.confluence.user.ConfluenceUser;
import java.util.Map;

/**
 * A third-party profile app's fields (Communardo User Profiles, Linchpin User Profiles): the
 * targets {@code communardo:<field>} and {@code linchpin:<field>}. When there is no store the
 * capability is absent and a mapping that targets it is a configuration error before any write.
 * The bridges to the vendors' own components are not built yet (their API jars are not reachable
 * here): the app passes no store, and says so.
 */
public interface ProfileStore {
    /** The user's current non-empty field values, by field id. */
    Map<String, String> read(ConfluenceUser user);

    /** Sets a field, or clears it when {@code value} is null. */
    void write(ConfluenceUser user, String field, String value);
}
