package org.usersync.confluence;

import com.atlassian.confluence.core.ContentEntityObject;
import com.atlassian.confluence.pages.Attachment;
import com.atlassian.confluence.pages.AttachmentManager;
import com.atlassian.confluence.user.ConfluenceUser;
import com.atlassian.confluence.security.login.LoginInfo;
import com.atlassian.confluence.security.login.LoginManager;
import com.atlassian.confluence.user.PersonalInformation;
import com.atlassian.confluence.user.PersonalInformationManager;
import com.atlassian.confluence.user.UserAccessor;
import com.atlassian.confluence.user.UserDetailsManager;
import com.atlassian.sal.api.user.UserKey;
import com.atlassian.user.EntityException;
import com.atlassian.user.Group;
import com.atlassian.user.User;
import com.atlassian.user.search.page.Pager;
import com.atlassian.user.security.password.Credential;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An in-memory Confluence: the components {@link ConfluenceDirectory} writes through, with the
 * documented behaviour that matters modelled and cited (Confluence 8.5 Java API reference,
 * docs.atlassian.com/ConfluenceServer/javadoc/8.5.21, and the Confluence administration guide).
 * Calls are counted per method.
 */
public final class FakeConfluence implements UserAccessor, UserDetailsManager, PersonalInformationManager,
        AttachmentManager, LoginManager {
    public static final String ADMINS = "confluence-administrators";
    /**
     * The groups with the Confluence Administrator or System Administrator global permission
     * (Confluence admin guide, "Global permissions overview": confluence-administrators has both
     * after installation).
     */
    public final Set<String> adminGroups = new TreeSet<>(Set.of(ADMINS));
    /** The time users (and their personal information) are created at; tests move it. */
    public volatile long now = System.currentTimeMillis();
    private final Map<String, Stored> byKey = new LinkedHashMap<>();
    private final Map<String, FakeGroup> groups = new TreeMap<>();
    private long nextKey = 0x8a7f808a0001L;
    private long nextContent = 1000;
    public final Map<String, Integer> calls = new TreeMap<>();
    /** Saved attachments by content id and file name, and each user's chosen picture. */
    public final Map<String, byte[]> attachments = new TreeMap<>();
    public final Map<String, String> profilePicture = new TreeMap<>();

    private static final class Stored implements ConfluenceUser {
        final UserKey key;
        String name;
        String fullName;
        String email;
        boolean deactivated;
        final Map<String, String> details = new TreeMap<>();
        final PersonalInformation info = new PersonalInformation();
        final Set<String> groups = new TreeSet<>();
        Date lastLogin;

        Stored(UserKey key, String name) {
            this.key = key;
            this.name = name;
        }

        public UserKey getKey() { return key; }

        public String getLowerName() { return name.toLowerCase(Locale.ROOT); }

        public String getName() { return name; }

        public String getFullName() { return fullName; }

        public String getEmail() { return email; }
    }

    private record FakeGroup(String name) implements Group {
        public String getName() { return name; }
    }

    private record ListPager<T>(List<T> items) implements Pager<T> {
        public boolean isEmpty() { return items.isEmpty(); }

        public Iterator<T> iterator() { return items.iterator(); }
    }

    private void count(String method) {
        calls.merge(method, 1, Integer::sum);
    }

    public synchronized int totalCalls() {
        return calls.values().stream().mapToInt(Integer::intValue).sum();
    }

    // Usernames are case-insensitive: Confluence looks users up by their lower-case name
    // (ConfluenceUser#getLowerName).
    private Stored byName(String name) {
        if (name == null) {
            return null;
        }
        for (Stored s : byKey.values()) {
            if (s.getLowerName().equals(name.toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        return null;
    }

    private Stored stored(User user) {
        Stored s = user instanceof Stored x ? byKey.get(x.key.getStringValue()) : byName(user.getName());
        if (s == null) {
            throw new IllegalArgumentException("no such user " + user.getName());
        }
        return s;
    }

    /** A user an administrator added by hand. */
    public synchronized String addUser(String name, String fullName, String email) {
        Stored s = store(name, fullName, email);
        return s.key.getStringValue();
    }

    // A user key is generated once and never changes, renames included (ConfluenceUser#getKey;
    // Confluence admin guide, "Rename a user": content stays attributed through the key).
    private Stored store(String name, String fullName, String email) {
        Stored s = new Stored(new UserKey(Long.toHexString(nextKey++) + "0180d0b5ee0001"), name);
        s.fullName = fullName;
        s.email = email;
        s.info.setId(nextContent++);
        // UserAccessor#createUser creates the user's personal information with the user.
        s.info.setCreationDate(new Date(now));
        byKey.put(s.key.getStringValue(), s);
        return s;
    }

    public synchronized Map<String, String> details(String key) {
        return new TreeMap<>(byKey.get(key).details);
    }

    public synchronized String aboutMe(String key) {
        return byKey.get(key).info.getBodyAsString();
    }

    public synchronized void deactivateByHand(String key) {
        byKey.get(key).deactivated = true;
    }

    // --- UserAccessor ---

    @Override
    public synchronized ConfluenceUser getUserByName(String name) {
        count("getUserByName");
        return byName(name);
    }

    @Override
    public synchronized ConfluenceUser getUserByKey(UserKey userKey) {
        count("getUserByKey");
        return byKey.get(userKey.getStringValue());
    }

    @Override
    public synchronized Pager<User> getUsers() {
        count("getUsers");
        return new ListPager<>(new ArrayList<>(byKey.values()));
    }

    @Override
    public synchronized ConfluenceUser createUser(User template, Credential password) {
        count("createUser");
        // UserAccessor#createUser: the name must be free (Confluence refuses a duplicate username).
        if (byName(template.getName()) != null) {
            throw new IllegalArgumentException("User " + template.getName() + " already exists");
        }
        return store(template.getName(), template.getFullName(), template.getEmail());
    }

    @Override
    public synchronized void saveUser(User user) {
        count("saveUser");
        Stored s = stored(user);
        s.fullName = user.getFullName();
        s.email = user.getEmail();
    }

    @Override
    public synchronized ConfluenceUser renameUser(ConfluenceUser user, String newUsername) throws EntityException {
        count("renameUser");
        // UserAccessor#renameUser throws EntityException when the new name is taken.
        Stored other = byName(newUsername);
        Stored s = stored(user);
        if (other != null && other != s) {
            throw new EntityException("A user with the name " + newUsername + " already exists");
        }
        s.name = newUsername;
        return s;
    }

    @Override
    public synchronized void deactivateUser(User user) {
        count("deactivateUser");
        stored(user).deactivated = true;
    }

    @Override
    public synchronized void reactivateUser(User user) {
        count("reactivateUser");
        stored(user).deactivated = false;
    }

    @Override
    public synchronized boolean isDeactivated(User user) {
        count("isDeactivated");
        return stored(user).deactivated;
    }

    @Override
    public synchronized void removeUser(User user) {
        count("removeUser");
        byKey.remove(stored(user).key.getStringValue());
    }

    // Group names are stored in lower case and matched case-insensitively (Confluence admin
    // guide, "Manage groups": Confluence converts group names to lower case).
    @Override
    public synchronized Group createGroup(String groupname) {
        count("createGroup");
        String lower = groupname.toLowerCase(Locale.ROOT);
        if (groups.containsKey(lower)) {
            throw new IllegalArgumentException("Group " + groupname + " already exists");
        }
        FakeGroup g = new FakeGroup(lower);
        groups.put(lower, g);
        return g;
    }

    @Override
    public synchronized Group getGroup(String name) {
        count("getGroup");
        return groups.get(name.toLowerCase(Locale.ROOT));
    }

    @Override
    public synchronized Pager<Group> getGroups() {
        count("getGroups");
        return new ListPager<>(new ArrayList<>(groups.values()));
    }

    @Override
    public synchronized List<String> getGroupNames(User user) {
        count("getGroupNames");
        return new ArrayList<>(stored(user).groups);
    }

    @Override
    public synchronized void addMembership(Group group, User user) {
        count("addMembership");
        if (group == null || !groups.containsKey(group.getName())) {
            throw new IllegalArgumentException("no such group");
        }
        stored(user).groups.add(group.getName());
    }

    @Override
    public synchronized void removeMembership(Group group, User user) {
        count("removeMembership");
        stored(user).groups.remove(group.getName());
    }

    @Override
    public synchronized void setUserProfilePicture(User user, Attachment attachment) {
        count("setUserProfilePicture");
        Stored s = stored(user);
        // The picture is one of the user's own personal-information attachments, saved first
        // (UserAccessor#setUserProfilePicture; Confluence's profile-picture upload does the same).
        String id = attachmentId(attachment.getContainer(), attachment.getFileName());
        if (attachment.getContainer() != s.info || !attachments.containsKey(id)) {
            throw new IllegalArgumentException("the attachment is not one of the user's saved attachments");
        }
        profilePicture.put(s.key.getStringValue(), id);
    }

    // --- UserDetailsManager ---

    // The profile groups and their keys of Confluence's "Edit profile" page
    // (DefaultUserDetailsManager: "personal" holds phone, im, website; "business" position,
    // department, location).
    @Override
    public List<String> getProfileGroups() {
        return List.of("personal", "business");
    }

    @Override
    public List<String> getProfileKeys(String groupKey) {
        return switch (groupKey) {
            case "personal" -> List.of("phone", "im", "website");
            case "business" -> List.of("position", "department", "location");
            default -> List.of();
        };
    }

    @Override
    public synchronized String getStringProperty(User user, String key) {
        count("getStringProperty");
        return stored(user).details.get(key);
    }

    // UserDetailsManager#setStringProperty "stores a string < 255 chars".
    @Override
    public synchronized void setStringProperty(User user, String key, String value) {
        count("setStringProperty");
        if (value != null && value.length() >= 255) {
            throw new IllegalArgumentException("a user detail holds fewer than 255 characters");
        }
        stored(user).details.put(key, value);
    }

    @Override
    public synchronized void removeProperty(User user, String key) {
        count("removeProperty");
        stored(user).details.remove(key);
    }

    /** A successful login at {@code atMs}, as LoginManager#onSuccessfulLoginAttempt records it. */
    public synchronized void loggedIn(String username, long atMs) {
        byName(username).lastLogin = new Date(atMs);
    }

    // --- LoginManager ---

    // LoginManager#getLoginInfo: the user's login history; HistoricalLoginInfo#getLastSuccessfulLoginDate
    // is null when no login is recorded.
    @Override
    public synchronized LoginInfo getLoginInfo(String userName) {
        count("getLoginInfo");
        Stored s = byName(userName);
        Date at = s == null ? null : s.lastLogin;
        return () -> at;
    }

    /** SAL's user manager over this Confluence: an administrator is in one of {@link #adminGroups}. */
    public com.atlassian.sal.api.user.UserManager sal() {
        return new com.atlassian.sal.api.user.UserManager() {
            public com.atlassian.sal.api.user.UserProfile getRemoteUser(javax.servlet.http.HttpServletRequest r) {
                return null;
            }

            public boolean isSystemAdmin(UserKey key) {
                return isAdmin(key);
            }

            public boolean isAdmin(UserKey key) {
                synchronized (FakeConfluence.this) {
                    count("isAdmin");
                    Stored s = byKey.get(key.getStringValue());
                    return s != null && s.groups.stream().anyMatch(g -> adminGroups.stream().anyMatch(g::equalsIgnoreCase));
                }
            }
        };
    }

    // --- PersonalInformationManager ---

    @Override
    public synchronized PersonalInformation getOrCreatePersonalInformation(User user) {
        count("getOrCreatePersonalInformation");
        return stored(user).info;
    }

    @Override
    public synchronized void savePersonalInformation(User user, String about, String email) {
        count("savePersonalInformation");
        Stored s = stored(user);
        s.info.setBodyAsString(about == null ? "" : about);
        s.email = email;
    }

    // --- AttachmentManager ---

    private static String attachmentId(ContentEntityObject content, String fileName) {
        return content.getId() + "/" + fileName;
    }

    @Override
    public synchronized Attachment getAttachment(ContentEntityObject content, String attachmentFileName) {
        count("getAttachment");
        return null;
    }

    @Override
    public synchronized void saveAttachment(Attachment attachment, Attachment previousVersion, InputStream data)
            throws IOException {
        count("saveAttachment");
        // An attachment belongs to a content object, and its data is as long as it says
        // (AttachmentManager#saveAttachment stores the stream as the attachment's data).
        if (attachment.getContainer() == null) {
            throw new IllegalArgumentException("an attachment needs a container");
        }
        byte[] bytes = data.readAllBytes();
        if (bytes.length != attachment.getFileSize()) {
            throw new IOException("expected " + attachment.getFileSize() + " bytes, read " + bytes.length);
        }
        attachments.put(attachmentId(attachment.getContainer(), attachment.getFileName()), bytes);
    }
}
