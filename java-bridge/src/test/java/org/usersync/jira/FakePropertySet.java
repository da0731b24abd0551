package org.usersync.jira;

import com.opensymphony.module.propertyset.PropertyException;
import com.opensymphony.module.propertyset.PropertySet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Map;

/** One user's property set in {@link FakeJira}. */
final class FakePropertySet implements PropertySet {
    private final Map<String, String> values;
    private final Object lock;

    FakePropertySet(Map<String, String> values, Object lock) {
        this.values = values;
        this.lock = lock;
    }

    @Override
    public String getString(String key) {
        synchronized (lock) {
            return values.get(key);
        }
    }

    // PropertySet "string" values are at most 255 characters (OpenSymphony PropertySet: STRING
    // is a 255-character type, TEXT the unbounded one; Jira's propertystring column).
    @Override
    public void setString(String key, String value) {
        if (value != null && value.length() > 255) {
            throw new PropertyException("String properties must be less than 256 characters");
        }
        synchronized (lock) {
            values.put(key, value);
        }
    }

    @Override
    public boolean exists(String key) {
        synchronized (lock) {
            return values.containsKey(key);
        }
    }

    @Override
    public void remove(String key) {
        synchronized (lock) {
            values.remove(key);
        }
    }

    @Override
    public Collection<String> getKeys(String prefix) {
        synchronized (lock) {
            Collection<String> out = new ArrayList<>();
            for (String k : values.keySet()) {
                if (prefix == null || k.startsWith(prefix)) {
                    out.add(k);
                }
            }
            return out;
        }
    }
}
