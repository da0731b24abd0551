package org.usersync.confluence;

import com.atlassian.confluence.user.ConfluenceUser;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A third-party profile app (Communardo or Linchpin User Profiles) as {@link ProfileStore} sees
 * it. Modelled rule: values exist only for the profile fields an administrator defined in the
 * app (Communardo "Java API Documentation (v 3.5)": profile elements are added and removed in
 * the app's administration, data is stored per element and user; Linchpin's "Profile Editor"
 * works the same way).
 */
final class FakeProfileApp implements ProfileStore {
    private final Set<String> defined;
    private final Map<String, Map<String, String>> byUser = new TreeMap<>();

    FakeProfileApp(Set<String> definedFields) {
        this.defined = definedFields;
    }

    synchronized Map<String, String> of(String key) {
        return new TreeMap<>(byUser.getOrDefault(key, Map.of()));
    }

    @Override
    public synchronized Map<String, String> read(ConfluenceUser user) {
        return of(user.getKey().getStringValue());
    }

    @Override
    public synchronized void write(ConfluenceUser user, String field, String value) {
        if (!defined.contains(field)) {
            throw new IllegalArgumentException("no profile field " + field + " is defined");
        }
        Map<String, String> values = byUser.computeIfAbsent(user.getKey().getStringValue(), k -> new TreeMap<>());
        if (value == null) {
            values.remove(field);
        } else {
            values.put(field, value);
        }
    }
}
