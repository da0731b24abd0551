package org.usersync.confluence;

import com.atlassian.confluence.pages.Attachment;
import com.atlassian.confluence.security.login.LoginInfo;
import com.atlassian.confluence.user.ConfluenceUser;
import com.atlassian.confluence.user.PersonalInformation;
import com.atlassian.sal.api.user.UserKey;
import com.atlassian.user.Group;
import com.atlassian.user.User;
import com.atlassian.user.impl.DefaultUser;
import com.atlassian.user.security.password.Credential;
import java.io.ByteArrayInputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.usersync.Capabilities;
import org.usersync.Directory;
import org.usersync.DirectoryException;
import org.usersync.DirectoryException.Kind;
import org.usersync.DirectoryUser;
import org.usersync.atlassian.Attempt;
import org.usersync.atlassian.Images;
import org.usersync.atlassian.Locks;

/**
 * The engine's {@link Directory} over Confluence's own APIs: users and groups through
 * {@code UserAccessor}, the six profile fields through {@code UserDetailsManager},
 * {@code profile:about_me} as the personal information's "about me", profile pictures as an
 * attachment of the personal information, {@code property:<key>} as a user detail the adapter
 * keeps (Confluence has no user properties page), {@code communardo:} and {@code linchpin:}
 * through their {@link ProfileStore}s. It decides nothing: the engine says what to write.
 */
public final class ConfluenceDirectory implements Directory {
    /** The profile fields of Confluence's "Edit profile" page, as UserDetailsManager keys. */
    static final Set<String> PROFILE_FIELDS = Set.of("phone", "im", "website", "position", "department", "location");
    static final String ABOUT_ME = "about_me";
    static final String EXTERNAL_ID = "usersync.externalId";
    static final String PROPERTY_PREFIX = "usersync.property.";
    /** The keys of the property: targets a user has (UserDetailsManager cannot list keys). */
    static final String PROPERTY_KEYS = "usersync.properties";
    /** UserDetailsManager#setStringProperty stores "a string < 255 chars". */
    static final int MAX_DETAIL_CHARS = 254;

    private final ConfluenceServices c;
    private final Locks locks;

    public ConfluenceDirectory(ConfluenceServices services, Locks locks) {
        this.c = services;
        this.locks = locks;
    }

    @Override
    public Capabilities capabilities() {
        Set<String> profile = new TreeSet<>(PROFILE_FIELDS);
        profile.add(ABOUT_ME);
        return new Capabilities(true, profile, c.communardo() != null, c.linchpin() != null, false,
                c.attachmentManager() != null, true);
    }

    @Override
    public List<DirectoryUser> listUsers() {
        List<DirectoryUser> out = new ArrayList<>();
        for (User u : c.userAccessor().getUsers()) {
            ConfluenceUser cu = u instanceof ConfluenceUser x ? x : c.userAccessor().getUserByName(u.getName());
            if (cu != null) {
                out.add(view(cu));
            }
        }
        return out;
    }

    @Override
    public DirectoryUser findUser(String username) {
        ConfluenceUser u = c.userAccessor().getUserByName(username);
        return u == null ? null : view(u);
    }

    /**
     * Always null: Confluence cannot search users by a property, and a login or an incremental run must
     * not read 100,000 users to find one. A full run lists every user with the external id kept
     * beside it, which is where a user whose anchor was lost is adopted again.
     */
    @Override
    public DirectoryUser findByExternalId(String externalId) {
        return null;
    }

    @Override
    public List<DirectoryUser> usersByKeys(Collection<String> keys) {
        List<DirectoryUser> out = new ArrayList<>();
        for (String key : keys) {
            ConfluenceUser u = c.userAccessor().getUserByKey(new UserKey(key));
            if (u != null) {
                out.add(view(u));
            }
        }
        return out;
    }

    private DirectoryUser view(ConfluenceUser u) {
        Map<String, String> values = new TreeMap<>();
        put(values, "display_name", u.getFullName());
        put(values, "email", u.getEmail());
        for (String f : PROFILE_FIELDS) {
            put(values, "profile:" + f, c.userDetailsManager().getStringProperty(u, f));
        }
        PersonalInformation info = c.personalInformationManager().getOrCreatePersonalInformation(u);
        put(values, "profile:" + ABOUT_ME, info.getBodyAsString());
        for (String k : propertyKeys(u)) {
            put(values, "property:" + k, c.userDetailsManager().getStringProperty(u, PROPERTY_PREFIX + k));
        }
        thirdParty(values, "communardo:", c.communardo(), u);
        thirdParty(values, "linchpin:", c.linchpin(), u);
        Set<String> groups = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        groups.addAll(c.userAccessor().getGroupNames(u));
        return new DirectoryUser(u.getKey().getStringValue(), u.getName(), !c.userAccessor().isDeactivated(u), values,
                groups, c.userDetailsManager().getStringProperty(u, EXTERNAL_ID), lastLogin(u), created(info),
                c.salUsers() != null && c.salUsers().isAdmin(u.getKey()));
    }

    /** Confluence's last successful login (LoginManager), null where none is recorded. */
    private Instant lastLogin(ConfluenceUser u) {
        LoginInfo info = c.loginManager() == null ? null : c.loginManager().getLoginInfo(u.getName());
        Date at = info == null ? null : info.getLastSuccessfulLoginDate();
        return at == null ? null : at.toInstant();
    }

    /**
     * When the user was created, as far as Confluence says: its personal information is created
     * with the user (UserAccessor#createUser), so that content's creation date stands for it.
     */
    private static Instant created(PersonalInformation info) {
        Date at = info.getCreationDate();
        return at == null ? null : at.toInstant();
    }

    private static void thirdParty(Map<String, String> values, String prefix, ProfileStore store, ConfluenceUser u) {
        if (store != null) {
            store.read(u).forEach((k, v) -> put(values, prefix + k, v));
        }
    }

    private static void put(Map<String, String> values, String target, String value) {
        if (value != null && !value.isEmpty()) {
            values.put(target, value);
        }
    }

    private Set<String> propertyKeys(ConfluenceUser u) {
        String list = c.userDetailsManager().getStringProperty(u, PROPERTY_KEYS);
        Set<String> keys = new LinkedHashSet<>();
        if (list != null) {
            for (String k : list.split("\n")) {
                if (!k.isEmpty()) {
                    keys.add(k);
                }
            }
        }
        return keys;
    }

    @Override
    public Set<String> listGroups() {
        Set<String> out = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        for (Group g : c.userAccessor().getGroups()) {
            out.add(g.getName());
        }
        return out;
    }

    @Override
    public String createUser(String username, String displayName, String email, boolean active, String externalId) {
        if (c.userAccessor().getUserByName(username) != null) {
            throw new DirectoryException(Kind.CONFLICT, "Confluence already has a user named " + username);
        }
        // No password (Credential.NONE): the user signs in through the IdP or resets one.
        ConfluenceUser[] made = new ConfluenceUser[1];
        DefaultUser template = new DefaultUser(username, displayName, email);
        Attempt.write("Confluence refused to create " + username,
                () -> made[0] = c.userAccessor().createUser(template, Credential.NONE));
        ConfluenceUser u = made[0];
        if (externalId != null) {
            detail(u, EXTERNAL_ID, externalId, "the external id");
        }
        if (!active) {
            c.userAccessor().deactivateUser(u);
        }
        return u.getKey().getStringValue();
    }

    @Override
    public void updateCore(String key, String target, String value) {
        ConfluenceUser u = user(key);
        DefaultUser changed = new DefaultUser(u.getName(), u.getFullName(), u.getEmail());
        switch (target) {
            case "display_name" -> changed.setFullName(value);
            case "email" -> changed.setEmail(value);
            default -> throw new DirectoryException(Kind.UNSUPPORTED, "not a core field: " + target);
        }
        Attempt.write("Confluence refused " + target + " of " + u.getName(), () -> c.userAccessor().saveUser(changed));
    }

    @Override
    public void rename(String key, String newUsername) {
        ConfluenceUser u = user(key);
        ConfluenceUser other = c.userAccessor().getUserByName(newUsername);
        if (other != null && !other.getKey().equals(u.getKey())) {
            throw new DirectoryException(Kind.CONFLICT, "Confluence already has a user named " + newUsername);
        }
        Attempt.write("Confluence refused to rename " + u.getName(), () -> c.userAccessor().renameUser(u, newUsername));
    }

    @Override
    public void setActive(String key, boolean active) {
        ConfluenceUser u = user(key);
        Attempt.write("Confluence refused to " + (active ? "reactivate " : "deactivate ") + u.getName(), () -> {
            if (active) {
                c.userAccessor().reactivateUser(u);
            } else {
                c.userAccessor().deactivateUser(u);
            }
        });
    }

    @Override
    public void deleteUser(String key) {
        ConfluenceUser u = user(key);
        Attempt.write("Confluence refused to delete " + u.getName(), () -> c.userAccessor().removeUser(u));
    }

    /**
     * Confluence's own "Delete user" anonymises (Confluence 7.17+) from the admin screens only; this
     * is the documented fallback: rename, replace the full name, clear the e-mail, profile and
     * "about me", deactivate. The key, and so the authorship of content, stays.
     */
    @Override
    public String anonymise(String key) {
        String placeholder = "anonymised-" + key.toLowerCase(java.util.Locale.ROOT);
        rename(key, placeholder);
        ConfluenceUser u = user(key);
        c.userAccessor().saveUser(new DefaultUser(u.getName(), "Anonymised user", ""));
        for (String f : PROFILE_FIELDS) {
            c.userDetailsManager().removeProperty(u, f);
        }
        for (String k : propertyKeys(u)) {
            c.userDetailsManager().removeProperty(u, PROPERTY_PREFIX + k);
        }
        c.userDetailsManager().removeProperty(u, PROPERTY_KEYS);
        c.personalInformationManager().savePersonalInformation(u, "", "");
        c.userAccessor().deactivateUser(u);
        return placeholder;
    }

    @Override
    public void setField(String key, String target, String value) {
        ConfluenceUser u = user(key);
        int colon = target.indexOf(':');
        String kind = target.substring(0, colon + 1);
        String name = target.substring(colon + 1);
        switch (kind) {
            case "profile:" -> profile(u, name, value);
            case "property:" -> property(u, name, value);
            case "communardo:" -> thirdPartyWrite(c.communardo(), "Communardo User Profiles", u, name, value);
            case "linchpin:" -> thirdPartyWrite(c.linchpin(), "Linchpin User Profiles", u, name, value);
            default -> throw new DirectoryException(Kind.UNSUPPORTED, "Confluence has no " + target);
        }
    }

    private void profile(ConfluenceUser u, String field, String value) {
        if (ABOUT_ME.equals(field)) {
            c.personalInformationManager().savePersonalInformation(u, value == null ? "" : value, u.getEmail());
        } else if (PROFILE_FIELDS.contains(field)) {
            detail(u, field, value, "profile:" + field);
        } else {
            throw new DirectoryException(Kind.UNSUPPORTED, "Confluence has no profile field " + field);
        }
    }

    private void property(ConfluenceUser u, String name, String value) {
        Set<String> keys = propertyKeys(u);
        boolean listed = value == null ? keys.remove(name) : keys.add(name);
        detail(u, PROPERTY_PREFIX + name, value, "property:" + name);
        if (listed) {
            detail(u, PROPERTY_KEYS, keys.isEmpty() ? null : String.join("\n", keys), "the list of properties");
        }
    }

    private void detail(ConfluenceUser u, String key, String value, String what) {
        if (value == null) {
            c.userDetailsManager().removeProperty(u, key);
            return;
        }
        if (value.length() > MAX_DETAIL_CHARS) {
            throw new DirectoryException(Kind.FAILED, what + " is " + value.length()
                    + " characters; Confluence stores at most " + MAX_DETAIL_CHARS + " in a user detail");
        }
        Attempt.write("Confluence refused " + what, () -> c.userDetailsManager().setStringProperty(u, key, value));
    }

    private static void thirdPartyWrite(ProfileStore store, String app, ConfluenceUser u, String field, String value) {
        if (store == null) {
            throw new DirectoryException(Kind.UNSUPPORTED, app + " is not installed");
        }
        Attempt.write(app + " refused " + field, () -> store.write(u, field, value));
    }

    @Override
    public void setAvatar(String key, byte[] image) {
        if (c.attachmentManager() == null) {
            throw new DirectoryException(Kind.UNSUPPORTED, "Confluence's attachment manager is not available");
        }
        String type = Images.contentType(image);
        if (type == null) {
            throw new DirectoryException(Kind.FAILED, "the photo is neither PNG nor JPEG");
        }
        ConfluenceUser u = user(key);
        // What Confluence's own upload does: the picture is an attachment of the user's personal
        // information, a new version of the previous one, then selected as the profile picture.
        PersonalInformation info = c.personalInformationManager().getOrCreatePersonalInformation(u);
        String name = Images.fileName(type);
        Attachment previous = c.attachmentManager().getAttachment(info, name);
        Attachment picture = new Attachment(name, type, image.length, "profile picture from usersync");
        picture.setContainer(info);
        Attempt.write("Confluence refused the profile picture of " + u.getName(), () -> {
            c.attachmentManager().saveAttachment(picture, previous, new ByteArrayInputStream(image));
            c.userAccessor().setUserProfilePicture(u, picture);
        });
    }

    @Override
    public void addMembership(String key, String group) {
        ConfluenceUser u = user(key);
        Group g = group(group);
        Attempt.write("Confluence refused to add " + u.getName() + " to " + group,
                () -> c.userAccessor().addMembership(g, u));
    }

    @Override
    public void removeMembership(String key, String group) {
        ConfluenceUser u = user(key);
        Group g = group(group);
        Attempt.write("Confluence refused to remove " + u.getName() + " from " + group,
                () -> c.userAccessor().removeMembership(g, u));
    }

    @Override
    public void createGroup(String name) {
        Attempt.write("Confluence refused to create group " + name, () -> c.userAccessor().createGroup(name));
    }

    @Override
    public boolean tryLock(String name, long ttlSeconds) {
        return locks.tryLock(name, ttlSeconds);
    }

    @Override
    public void unlock(String name) {
        locks.unlock(name);
    }

    private Group group(String name) {
        Group g = c.userAccessor().getGroup(name);
        if (g == null) {
            throw new DirectoryException(Kind.NOT_FOUND, "Confluence has no group " + name);
        }
        return g;
    }

    private ConfluenceUser user(String key) {
        ConfluenceUser u = c.userAccessor().getUserByKey(new UserKey(key));
        if (u == null) {
            throw new DirectoryException(Kind.NOT_FOUND, "Confluence has no user with key " + key);
        }
        return u;
    }
}
