package org.usersync.jira;

import com.atlassian.crowd.embedded.api.Group;
import com.atlassian.crowd.embedded.api.User;
import com.atlassian.crowd.exception.embedded.InvalidGroupException;
import com.atlassian.jira.avatar.Avatar;
import com.atlassian.jira.avatar.AvatarManager;
import com.atlassian.jira.avatar.AvatarService;
import com.atlassian.crowd.model.user.TimestampedUser;
import com.atlassian.jira.avatar.Selection;
import com.atlassian.jira.bc.security.login.LoginInfo;
import com.atlassian.jira.bc.security.login.LoginService;
import com.atlassian.jira.bc.user.UserService;
import com.atlassian.jira.exception.AddException;
import com.atlassian.jira.exception.CreateException;
import com.atlassian.jira.exception.PermissionException;
import com.atlassian.jira.exception.RemoveException;
import com.atlassian.jira.security.groups.GroupManager;
import com.atlassian.jira.user.ApplicationUser;
import com.atlassian.jira.user.DelegatingApplicationUser;
import com.atlassian.jira.user.UserPropertyManager;
import com.atlassian.jira.user.util.UserManager;
import com.atlassian.jira.user.util.UserUtil;
import com.atlassian.jira.util.SimpleErrorCollection;
import com.opensymphony.module.propertyset.PropertySet;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An in-memory Jira: the components {@link JiraDirectory} writes through, with the documented
 * behaviour that matters modelled and cited (Jira 9.12 Java API reference,
 * docs.atlassian.com/software/jira/docs/api/9.12.0, and the Jira administration guide). Each
 * rule's citation sits beside it. Calls are counted per method for the tests that count them.
 */
public final class FakeJira implements UserManager, UserService, GroupManager, UserUtil, UserPropertyManager,
        AvatarManager, AvatarService, LoginService {
    public static final long INTERNAL_DIRECTORY = 1;
    public static final String SYSADMINS = "jira-administrators";
    /**
     * The groups granted the Jira Administrators or System Administrators global permission
     * (administration guide, "Managing global permissions": jira-administrators has both after
     * installation; an administrator can grant them to any group).
     */
    public final Set<String> adminGroups = new TreeSet<>(Set.of(SYSADMINS));
    /** The time users are created at (Crowd's created date); tests move it. */
    public volatile long now = System.currentTimeMillis();

    private final Map<String, Stored> byKey = new LinkedHashMap<>();
    /** The users by lower-case name: Jira looks names up through an index too. */
    private final Map<String, Stored> byLowerName = new java.util.HashMap<>();
    private final Map<String, FakeGroup> groups = new TreeMap<>();
    private final Set<Long> directories = new TreeSet<>(Set.of(INTERNAL_DIRECTORY));
    private long nextId = 10000;
    /** Calls per method name; the tests that bound the calls of a run read it. */
    public final Map<String, Integer> calls = new TreeMap<>();
    /** Usernames Jira e-mailed a "your account was created" message to. */
    public final List<String> notified = new ArrayList<>();
    /** Avatars created, by id, and each user's selected custom avatar. */
    public final Map<Long, byte[]> avatars = new TreeMap<>();
    /** Called with the username before each creation, outside the fake's lock: tests block or fail here. */
    public volatile java.util.function.Consumer<String> beforeCreate = name -> {};
    public final Map<String, Long> selectedAvatar = new TreeMap<>();

    private final class Stored {
        final long id;
        final String key;
        String name;
        String displayName;
        String email;
        boolean active = true;
        final long directoryId;
        final Map<String, String> props = new TreeMap<>();
        final Set<String> groups = new TreeSet<>();
        final long createdMs = now;
        Long lastLoginMs;

        Stored(long id, String key, String name, long directoryId) {
            this.id = id;
            this.key = key;
            this.name = name;
            this.directoryId = directoryId;
        }

        ApplicationUser view() {
            return new DelegatingApplicationUser(id, key,
                    new Details(name, displayName, email, active, directoryId, new Date(createdMs)));
        }
    }

    // Users of Jira's internal directory are Crowd TimestampedUsers (OfBizUser): they carry
    // their creation date.
    private record Details(String name, String displayName, String emailAddress, boolean active, long directoryId,
            Date createdDate) implements TimestampedUser {
        public Date getCreatedDate() { return createdDate; }

        public String getName() { return name; }

        public long getDirectoryId() { return directoryId; }

        public boolean isActive() { return active; }

        public String getEmailAddress() { return emailAddress; }

        public String getDisplayName() { return displayName; }

        public int compareTo(User o) { return name.compareToIgnoreCase(o.getName()); }
    }

    private record FakeGroup(String name) implements Group {
        public String getName() { return name; }

        public int compareTo(Group o) { return name.compareToIgnoreCase(o.getName()); }
    }

    private void count(String method) {
        calls.merge(method, 1, Integer::sum);
    }

    public synchronized int totalCalls() {
        return calls.values().stream().mapToInt(Integer::intValue).sum();
    }

    // Group names are case-insensitive (Jira admin guide, "Managing groups": Jira treats group
    // names case-insensitively); kept by lower-case name, shown as created.
    private static String fold(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    /** Adds a user directly, as an administrator would by hand (returns its key). */
    public synchronized String addUser(String username, String displayName, String email, String... groupNames) {
        Stored s = store(username, INTERNAL_DIRECTORY);
        s.displayName = displayName;
        s.email = email;
        for (String g : groupNames) {
            groups.putIfAbsent(fold(g), new FakeGroup(g));
            s.groups.add(fold(g));
        }
        return s.key;
    }

    /** Adds a second user directory (an LDAP directory, say). */
    public synchronized void addDirectory(long id) {
        directories.add(id);
    }

    /** Adds a user in another directory. */
    public synchronized String addUserIn(long directoryId, String username) {
        Stored s = store(username, directoryId);
        s.displayName = username;
        s.email = username + "@example.com";
        return s.key;
    }

    public synchronized Map<String, String> properties(String key) {
        return new TreeMap<>(byKey.get(key).props);
    }

    public synchronized void deactivateByHand(String key) {
        byKey.get(key).active = false;
    }

    // Usernames are stored in lower case and looked up case-insensitively; a key never changes,
    // renames included (ApplicationUser#getKey: the key is immutable and distinguishes the user;
    // #getUsername: the username can change). Users created by recent Jira versions get keys of
    // the form JIRAUSER<id>.
    private Stored store(String username, long directoryId) {
        long id = nextId++;
        Stored s = new Stored(id, "JIRAUSER" + id, fold(username), directoryId);
        byKey.put(s.key, s);
        byLowerName.put(s.name, s);
        return s;
    }

    private Stored byName(String username) {
        if (username == null) {
            return null;
        }
        return byLowerName.get(fold(username));
    }

    private boolean isSysadmin(Stored s) {
        return s.groups.contains(SYSADMINS);
    }

    /** A successful login at {@code atMs}, as Jira's LoginService records it. */
    public synchronized void loggedIn(String username, long atMs) {
        byName(username).lastLoginMs = atMs;
    }

    // --- LoginService ---

    // LoginService#getLoginInfo: the login record of a user; its last login time is null for a
    // user who never logged in.
    @Override
    public synchronized LoginInfo getLoginInfo(String userName) {
        count("getLoginInfo");
        Stored s = byName(userName);
        Long at = s == null ? null : s.lastLoginMs;
        return () -> at;
    }

    /**
     * SAL's user manager over this Jira: an administrator is a member of a group with the
     * administration global permission ({@link #adminGroups}).
     */
    public com.atlassian.sal.api.user.UserManager sal() {
        return new com.atlassian.sal.api.user.UserManager() {
            public com.atlassian.sal.api.user.UserProfile getRemoteUser(javax.servlet.http.HttpServletRequest r) {
                return null;
            }

            public boolean isSystemAdmin(com.atlassian.sal.api.user.UserKey key) {
                return isAdmin(key);
            }

            public boolean isAdmin(com.atlassian.sal.api.user.UserKey key) {
                synchronized (FakeJira.this) {
                    count("isAdmin");
                    Stored s = byKey.get(key.getStringValue());
                    return s != null && adminGroups.stream().anyMatch(a -> s.groups.contains(fold(a)));
                }
            }
        };
    }

    // --- UserManager ---

    @Override
    public synchronized ApplicationUser getUserByKey(String userKey) {
        count("getUserByKey");
        Stored s = byKey.get(userKey);
        return s == null ? null : s.view();
    }

    @Override
    public synchronized ApplicationUser getUserByName(String userName) {
        count("getUserByName");
        Stored s = byName(userName);
        return s == null ? null : s.view();
    }

    @Override
    public synchronized Collection<ApplicationUser> getAllApplicationUsers() {
        count("getAllApplicationUsers");
        List<ApplicationUser> out = new ArrayList<>();
        for (Stored s : byKey.values()) {
            out.add(s.view());
        }
        return out;
    }

    // --- UserService ---

    @Override
    public synchronized CreateUserValidationResult validateCreateUser(CreateUserRequest r) {
        count("validateCreateUser");
        SimpleErrorCollection errors = new SimpleErrorCollection();
        // UserService#validateCreateUser: the logged-in user needs the Administer Jira permission.
        Stored acting = r.getLoggedInUser() == null ? null : byKey.get(r.getLoggedInUser().getKey());
        if (acting == null || !isSysadmin(acting)) {
            errors.addErrorMessage("You do not have the permission to create users.");
        }
        // #validateCreateUser: the username must be unique, the e-mail address and display name
        // present (Jira's create-user form and REST resource require both).
        if (r.getUsername() == null || r.getUsername().isBlank()) {
            errors.addError("username", "You must specify a username.");
        } else if (byName(r.getUsername()) != null) {
            errors.addError("username", "A user with that username already exists.");
        }
        if (r.getEmailAddress() == null || !r.getEmailAddress().contains("@")) {
            errors.addError("email", "You must specify a valid email address.");
        }
        if (r.getDisplayName() == null || r.getDisplayName().isBlank()) {
            errors.addError("fullname", "You must specify a full name.");
        }
        // CreateUserRequest#inDirectory: the directory must exist (null means the default one).
        if (r.getDirectoryId() != null && !directories.contains(r.getDirectoryId())) {
            errors.addError("directoryId", "The user directory does not exist.");
        }
        return new CreateUserValidationResult(errors, r);
    }

    @Override
    public ApplicationUser createUser(CreateUserValidationResult result) throws CreateException {
        beforeCreate.accept(result.getCreateUserRequest().getUsername());
        return created(result);
    }

    private synchronized ApplicationUser created(CreateUserValidationResult result) throws CreateException {
        count("createUser");
        // #createUser: "should only be called when the validationResult.isValid()".
        if (!result.isValid()) {
            throw new IllegalStateException("createUser called with an invalid validation result");
        }
        CreateUserRequest r = result.getCreateUserRequest();
        if (byName(r.getUsername()) != null) {
            throw new CreateException("A user with that username already exists.");
        }
        Stored s = store(r.getUsername(), r.getDirectoryId() == null ? INTERNAL_DIRECTORY : r.getDirectoryId());
        s.displayName = r.getDisplayName();
        s.email = r.getEmailAddress();
        // CreateUserRequest#sendNotification: Jira e-mails the new user only when asked.
        if (r.shouldSendNotification()) {
            notified.add(s.name);
        }
        return s.view();
    }

    @Override
    public synchronized UpdateUserValidationResult validateUpdateUser(ApplicationUser user) {
        count("validateUpdateUser");
        SimpleErrorCollection errors = new SimpleErrorCollection();
        Stored s = byKey.get(user.getKey());
        if (s == null) {
            errors.addErrorMessage("The user does not exist.");
            return new UpdateUserValidationResult(errors, user);
        }
        // Renaming to a name another user has is refused (Jira admin guide, "Edit, rename, or
        // deactivate a user").
        Stored other = byName(user.getUsername());
        if (other != null && other != s) {
            errors.addError("username", "A user with that username already exists.");
        }
        if (user.getEmailAddress() == null || !user.getEmailAddress().contains("@")) {
            errors.addError("email", "You must specify a valid email address.");
        }
        // The last active system administrator cannot be deactivated: Jira refuses it so that
        // someone can still administer it (same guide, "Deactivate a user").
        if (s.active && !user.isActive() && isSysadmin(s) && activeSysadmins() == 1) {
            errors.addErrorMessage("You cannot deactivate the last active system administrator.");
        }
        return new UpdateUserValidationResult(errors, user);
    }

    private long activeSysadmins() {
        return byKey.values().stream().filter(u -> u.active && isSysadmin(u)).count();
    }

    @Override
    public synchronized void updateUser(UpdateUserValidationResult result) {
        count("updateUser");
        if (!result.isValid()) {
            throw new IllegalStateException("updateUser called with an invalid validation result");
        }
        ApplicationUser u = result.getApplicationUser();
        Stored s = byKey.get(u.getKey());
        byLowerName.remove(s.name);
        s.name = fold(u.getUsername());
        byLowerName.put(s.name, s);
        s.displayName = u.getDisplayName();
        s.email = u.getEmailAddress();
        s.active = u.isActive();
    }

    @Override
    public synchronized DeleteUserValidationResult validateDeleteUser(ApplicationUser loggedInUser,
            ApplicationUser userForDelete) {
        count("validateDeleteUser");
        SimpleErrorCollection errors = new SimpleErrorCollection();
        // UserService#validateDeleteUser: "the user is not deleting themselves" and has the
        // permission to delete users.
        if (loggedInUser == null || loggedInUser.getKey().equals(userForDelete.getKey())) {
            errors.addErrorMessage("You cannot delete the currently logged in user.");
        }
        Stored s = byKey.get(userForDelete.getKey());
        if (s != null && isSysadmin(s) && activeSysadmins() == 1 && s.active) {
            errors.addErrorMessage("You cannot delete the last active system administrator.");
        }
        return new DeleteUserValidationResult(errors, userForDelete);
    }

    @Override
    public synchronized void removeUser(ApplicationUser loggedInUser, DeleteUserValidationResult result) {
        count("removeUser");
        if (!result.isValid()) {
            throw new IllegalStateException("removeUser called with an invalid validation result");
        }
        Stored gone = byKey.remove(result.getApplicationUser().getKey());
        if (gone != null) {
            byLowerName.remove(gone.name);
        }
    }

    // --- GroupManager and UserUtil ---

    @Override
    public synchronized Group getGroup(String groupName) {
        count("getGroup");
        return groups.get(fold(groupName));
    }

    @Override
    public synchronized boolean groupExists(String groupName) {
        count("groupExists");
        return groups.containsKey(fold(groupName));
    }

    @Override
    public synchronized Group createGroup(String groupName) throws InvalidGroupException {
        count("createGroup");
        if (groups.containsKey(fold(groupName))) {
            throw new InvalidGroupException("A group with the name " + groupName + " already exists.");
        }
        FakeGroup g = new FakeGroup(groupName);
        groups.put(fold(groupName), g);
        return g;
    }

    @Override
    public synchronized Collection<Group> getAllGroups() {
        count("getAllGroups");
        return new ArrayList<>(groups.values());
    }

    @Override
    public synchronized Collection<String> getGroupNamesForUser(ApplicationUser user) {
        count("getGroupNamesForUser");
        List<String> out = new ArrayList<>();
        for (String g : byKey.get(user.getKey()).groups) {
            out.add(groups.get(g).name());
        }
        return out;
    }

    @Override
    public synchronized void addUserToGroup(Group group, ApplicationUser user) throws AddException {
        count("addUserToGroup");
        if (group == null || !groups.containsKey(fold(group.getName()))) {
            throw new AddException("The group does not exist.");
        }
        byKey.get(user.getKey()).groups.add(fold(group.getName()));
    }

    @Override
    public synchronized void removeUserFromGroup(Group group, ApplicationUser user)
            throws PermissionException, RemoveException {
        count("removeUserFromGroup");
        Stored s = byKey.get(user.getKey());
        // Removing the last active system administrator from the sysadmin group would lock
        // everyone out (UserUtil#removeUserFromGroup throws PermissionException for it).
        if (fold(group.getName()).equals(SYSADMINS) && s.active && activeSysadmins() == 1 && isSysadmin(s)) {
            throw new PermissionException("You cannot remove the last active system administrator.");
        }
        if (!s.groups.remove(fold(group.getName()))) {
            throw new RemoveException("The user is not a member of " + group.getName());
        }
    }

    // --- UserPropertyManager ---

    @Override
    public synchronized PropertySet getPropertySet(ApplicationUser user) {
        count("getPropertySet");
        Stored s = byKey.get(user.getKey());
        if (s == null) {
            throw new IllegalArgumentException("no such user");
        }
        return new FakePropertySet(s.props, this);
    }

    // --- AvatarManager and AvatarService ---

    @Override
    public synchronized Avatar create(String fileName, String contentType, ApplicationUser owner, InputStream image,
            Selection selection) throws IOException {
        count("createAvatar");
        // AvatarManager#create: only images Jira can scale (PNG, JPEG, GIF) are accepted.
        if (!Set.of("image/png", "image/jpeg", "image/gif").contains(contentType)) {
            throw new IllegalArgumentException("unsupported avatar content type " + contentType);
        }
        long id = 20000 + avatars.size();
        avatars.put(id, image.readAllBytes());
        String ownerKey = owner.getKey();
        return new Avatar() {
            public Long getId() { return id; }

            public String getOwner() { return ownerKey; }
        };
    }

    @Override
    public synchronized void setCustomUserAvatar(ApplicationUser remoteUser, ApplicationUser user, Long avatarId) {
        count("setCustomUserAvatar");
        // AvatarService#setCustomUserAvatar: the avatar must exist; the remote user needs the
        // permission to change the user's avatar (administrators have it).
        if (!avatars.containsKey(avatarId)) {
            throw new IllegalArgumentException("no avatar " + avatarId);
        }
        if (remoteUser == null || !isSysadmin(byKey.get(remoteUser.getKey()))) {
            throw new SecurityException("no permission to set the avatar");
        }
        selectedAvatar.put(user.getKey(), avatarId);
    }
}
