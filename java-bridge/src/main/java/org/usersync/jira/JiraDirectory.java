package org.usersync.jira;

import com.atlassian.crowd.embedded.api.Group;
import com.atlassian.crowd.model.user.TimestampedUser;
import com.atlassian.jira.avatar.Avatar;
import com.atlassian.jira.bc.ServiceResult;
import com.atlassian.jira.bc.security.login.LoginInfo;
import com.atlassian.jira.bc.user.UserService.CreateUserRequest;
import com.atlassian.jira.bc.user.UserService;
import com.atlassian.jira.user.ApplicationUser;
import com.atlassian.jira.user.DelegatingApplicationUser;
import com.atlassian.sal.api.user.UserKey;
import com.opensymphony.module.propertyset.PropertySet;
import java.io.ByteArrayInputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.usersync.Capabilities;
import org.usersync.Directory;
import org.usersync.DirectoryException.Kind;
import org.usersync.DirectoryException;
import org.usersync.DirectoryUser;
import org.usersync.atlassian.Attempt;
import org.usersync.atlassian.Images;
import org.usersync.atlassian.Locks;

/**
 * The engine's {@link Directory} over Jira's own APIs: users through {@code UserService} (so
 * Jira's validations and permission checks apply), groups through {@code GroupManager} and
 * {@code UserUtil}, {@code property:<key>} as the user properties an administrator sees
 * ({@code jira.meta.<key>} in the user's property set), avatars through {@code AvatarManager}.
 * It decides nothing: the engine says what to write.
 */
public final class JiraDirectory implements Directory {
    /** Jira shows the user properties with this prefix on the user's admin page. */
    static final String PROPERTY_PREFIX = "jira.meta.";
    /** Where the IdP id is kept: a property an administrator does not see or edit. */
    static final String EXTERNAL_ID = "usersync.externalId";
    static final String JSM = "jsm:organization";
    /** Several organisations in one jsm:organization value. */
    static final String ORG_SEPARATOR = "; ";
    /** A PropertySet "string" holds at most 255 characters. */
    static final int MAX_PROPERTY_CHARS = 255;

    private final JiraServices jira;
    private final JiraSettings settings;
    private final Locks locks;

    public JiraDirectory(JiraServices jira, JiraSettings settings, Locks locks) {
        this.jira = jira;
        this.settings = settings;
        this.locks = locks;
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(true, Set.of(), false, false, jira.organizations() != null,
                jira.avatarManager() != null, true);
    }

    @Override
    public List<DirectoryUser> listUsers() {
        Map<String, SortedSet<String>> orgs = organizations();
        List<DirectoryUser> out = new ArrayList<>();
        for (ApplicationUser u : jira.userManager().getAllApplicationUsers()) {
            if (settings.directoryId() == null || u.getDirectoryId() == settings.directoryId()) {
                out.add(view(u, orgs));
            }
        }
        return out;
    }

    @Override
    public DirectoryUser findUser(String username) {
        ApplicationUser u = jira.userManager().getUserByName(username);
        return u == null ? null : view(u, organizations());
    }

    /** Every user's JSM organisations, read once per look-up; empty without Service Management. */
    private Map<String, SortedSet<String>> organizations() {
        return jira.organizations() == null ? Map.of() : jira.organizations().byUserKey(actingUser());
    }

    /**
     * Always null: Jira cannot search users by a property, and a login or an incremental run must
     * not read 100,000 users to find one. A full run lists every user with the external id kept
     * beside it, which is where a user whose anchor was lost is adopted again.
     */
    @Override
    public DirectoryUser findByExternalId(String externalId) {
        return null;
    }

    @Override
    public List<DirectoryUser> usersByKeys(Collection<String> keys) {
        Map<String, SortedSet<String>> orgs = organizations();
        List<DirectoryUser> out = new ArrayList<>();
        for (String key : keys) {
            ApplicationUser u = jira.userManager().getUserByKey(key);
            if (u != null) {
                out.add(view(u, orgs));
            }
        }
        return out;
    }

    private DirectoryUser view(ApplicationUser u, Map<String, SortedSet<String>> orgs) {
        Map<String, String> values = new TreeMap<>();
        putIfSet(values, "display_name", u.getDisplayName());
        putIfSet(values, "email", u.getEmailAddress());
        PropertySet props = jira.userPropertyManager().getPropertySet(u);
        for (String k : props.getKeys(PROPERTY_PREFIX)) {
            putIfSet(values, "property:" + k.substring(PROPERTY_PREFIX.length()), props.getString(k));
        }
        SortedSet<String> memberOf = orgs.get(u.getKey());
        if (memberOf != null) {
            putIfSet(values, JSM, String.join(ORG_SEPARATOR, memberOf));
        }
        Set<String> groups = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        groups.addAll(jira.groupManager().getGroupNamesForUser(u));
        String externalId = props.exists(EXTERNAL_ID) ? props.getString(EXTERNAL_ID) : null;
        return new DirectoryUser(u.getKey(), u.getUsername(), u.isActive(), values, groups, externalId, lastLogin(u),
                created(u), jira.salUsers() != null && jira.salUsers().isAdmin(new UserKey(u.getKey())));
    }

    /** Jira's "Last login" (LoginService), null for a user who never logged in. */
    private Instant lastLogin(ApplicationUser u) {
        if (jira.loginService() == null) {
            return null;
        }
        LoginInfo info = jira.loginService().getLoginInfo(u.getUsername());
        Long at = info == null ? null : info.getLastLoginTime();
        return at == null ? null : Instant.ofEpochMilli(at);
    }

    /**
     * When the user was created: Crowd keeps it on the users of Jira's internal directory (a
     * {@code TimestampedUser}). Null elsewhere, and a user whose creation is unknown is never
     * treated as "never logged in for N days".
     */
    private static Instant created(ApplicationUser u) {
        return u.getDirectoryUser() instanceof TimestampedUser t && t.getCreatedDate() != null
                ? t.getCreatedDate().toInstant()
                : null;
    }

    private static void putIfSet(Map<String, String> values, String target, String value) {
        if (value != null && !value.isEmpty()) {
            values.put(target, value);
        }
    }

    @Override
    public Set<String> listGroups() {
        Set<String> out = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        for (Group g : jira.groupManager().getAllGroups()) {
            out.add(g.getName());
        }
        return out;
    }

    @Override
    public String createUser(String username, String displayName, String email, boolean active, String externalId) {
        if (jira.userManager().getUserByName(username) != null) {
            throw new DirectoryException(Kind.CONFLICT, "Jira already has a user named " + username);
        }
        // No password: the user signs in through the IdP (or resets one); Jira generates a random one.
        CreateUserRequest request = CreateUserRequest
                .withUserDetails(actingUser(), username, null, email, displayName)
                .inDirectory(settings.directoryId())
                .sendNotification(settings.sendNotification());
        UserService.CreateUserValidationResult check = jira.userService().validateCreateUser(request);
        requireValid(check, "create user " + username);
        ApplicationUser[] made = new ApplicationUser[1];
        Attempt.write("Jira refused to create " + username, () -> made[0] = jira.userService().createUser(check));
        ApplicationUser created = made[0];
        if (externalId != null) {
            jira.userPropertyManager().getPropertySet(created).setString(EXTERNAL_ID, externalId);
        }
        if (!active) {
            setActive(created.getKey(), false);
        }
        return created.getKey();
    }

    @Override
    public void updateCore(String key, String target, String value) {
        ApplicationUser u = user(key);
        switch (target) {
            case "display_name" -> update(u, CrowdUser.of(u).withDisplayName(value), "set the display name of");
            case "email" -> update(u, CrowdUser.of(u).withEmail(value), "set the e-mail address of");
            default -> throw new DirectoryException(Kind.UNSUPPORTED, "not a core field: " + target);
        }
    }

    @Override
    public void rename(String key, String newUsername) {
        ApplicationUser u = user(key);
        ApplicationUser other = jira.userManager().getUserByName(newUsername);
        if (other != null && !other.getKey().equals(key)) {
            throw new DirectoryException(Kind.CONFLICT, "Jira already has a user named " + newUsername);
        }
        update(u, CrowdUser.of(u).withName(newUsername), "rename");
    }

    @Override
    public void setActive(String key, boolean active) {
        ApplicationUser u = user(key);
        update(u, CrowdUser.of(u).withActive(active), active ? "activate" : "deactivate");
    }

    private void update(ApplicationUser current, CrowdUser changed, String what) {
        ApplicationUser next = new DelegatingApplicationUser(current.getId(), current.getKey(), changed);
        UserService.UpdateUserValidationResult check = jira.userService().validateUpdateUser(next);
        requireValid(check, what + " " + current.getUsername());
        jira.userService().updateUser(check);
    }

    @Override
    public void deleteUser(String key) {
        ApplicationUser u = user(key);
        UserService.DeleteUserValidationResult check = jira.userService().validateDeleteUser(actingUser(), u);
        requireValid(check, "delete " + u.getUsername());
        jira.userService().removeUser(actingUser(), check);
    }

    /**
     * Jira's own anonymisation (Jira 8.7+) runs as an administrator's background task through
     * its REST resource, not a plugin API; this is the documented manual fallback: rename,
     * replace the display name and e-mail, clear the properties, deactivate. The key stays.
     */
    @Override
    public String anonymise(String key) {
        ApplicationUser u = user(key);
        String placeholder = "anonymised-" + key.toLowerCase(java.util.Locale.ROOT);
        CrowdUser anon = CrowdUser.of(u).withName(placeholder).withDisplayName("Anonymised user")
                .withEmail(placeholder + "@anonymised.invalid").withActive(false);
        update(u, anon, "anonymise");
        PropertySet props = jira.userPropertyManager().getPropertySet(user(key));
        for (String k : props.getKeys(PROPERTY_PREFIX)) {
            props.remove(k);
        }
        return placeholder;
    }

    @Override
    public void setField(String key, String target, String value) {
        if (target.equals(JSM) && jira.organizations() != null) {
            SortedSet<String> names = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
            for (String n : value == null ? new String[0] : value.split(";")) {
                if (!n.isBlank()) {
                    names.add(n.trim());
                }
            }
            ApplicationUser u = user(key);
            ApplicationUser acting = actingUser();
            Attempt.write("Service Management refused the organisations of " + u.getUsername(),
                    () -> jira.organizations().set(acting, u, names));
            return;
        }
        if (!target.startsWith("property:")) {
            throw new DirectoryException(Kind.UNSUPPORTED, "Jira has no " + target);
        }
        String name = PROPERTY_PREFIX + target.substring("property:".length());
        if (value != null && value.length() > MAX_PROPERTY_CHARS) {
            throw new DirectoryException(Kind.FAILED, target + " is " + value.length()
                    + " characters; a Jira user property holds at most " + MAX_PROPERTY_CHARS);
        }
        PropertySet props = jira.userPropertyManager().getPropertySet(user(key));
        Attempt.write("Jira refused " + target, () -> {
            if (value == null) {
                if (props.exists(name)) {
                    props.remove(name);
                }
            } else {
                props.setString(name, value);
            }
        });
    }

    @Override
    public void setAvatar(String key, byte[] image) {
        if (jira.avatarManager() == null || jira.avatarService() == null) {
            throw new DirectoryException(Kind.UNSUPPORTED, "Jira's avatar services are not available");
        }
        String type = Images.contentType(image);
        if (type == null) {
            throw new DirectoryException(Kind.FAILED, "the photo is neither PNG nor JPEG");
        }
        ApplicationUser u = user(key);
        ApplicationUser acting = actingUser();
        Attempt.write("Jira refused the avatar of " + u.getUsername(), () -> {
            Avatar avatar = jira.avatarManager().create(Images.fileName(type), type, u, new ByteArrayInputStream(image),
                    null);
            jira.avatarService().setCustomUserAvatar(acting, u, avatar.getId());
        });
    }

    @Override
    public void addMembership(String key, String group) {
        ApplicationUser u = user(key);
        Group g = group(group);
        Attempt.write("Jira refused to add " + u.getUsername() + " to " + group,
                () -> jira.userUtil().addUserToGroup(g, u));
    }

    @Override
    public void removeMembership(String key, String group) {
        ApplicationUser u = user(key);
        Group g = group(group);
        Attempt.write("Jira refused to remove " + u.getUsername() + " from " + group,
                () -> jira.userUtil().removeUserFromGroup(g, u));
    }

    @Override
    public void createGroup(String name) {
        Attempt.write("Jira refused to create group " + name, () -> jira.groupManager().createGroup(name));
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
        Group g = jira.groupManager().getGroup(name);
        if (g == null) {
            throw new DirectoryException(Kind.NOT_FOUND, "Jira has no group " + name);
        }
        return g;
    }

    private ApplicationUser user(String key) {
        ApplicationUser u = jira.userManager().getUserByKey(key);
        if (u == null) {
            throw new DirectoryException(Kind.NOT_FOUND, "Jira has no user with key " + key);
        }
        return u;
    }

    private ApplicationUser actingUser() {
        ApplicationUser u = jira.userManager().getUserByName(settings.actingUsername());
        if (u == null) {
            throw new DirectoryException(Kind.FAILED, "the acting administrator " + settings.actingUsername()
                    + " does not exist in Jira");
        }
        return u;
    }

    private static void requireValid(ServiceResult result, String what) {
        if (!result.isValid()) {
            List<String> why = new ArrayList<>(result.getErrorCollection().getErrorMessages());
            why.addAll(result.getErrorCollection().getErrors().values());
            throw new DirectoryException(Kind.FAILED, "Jira refused to " + what + ": " + String.join("; ", why));
        }
    }
}
