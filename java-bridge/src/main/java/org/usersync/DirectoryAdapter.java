package org.usersync;

import java.util.Base64;
import java.util.List;

/**
 * The one object Rust calls: {@code invoke(op, a..e)} routes to the typed {@link Directory}
 * methods and answers a status digit (0 = ok, 1 not found, 2 conflict, 3 unsupported, 4 failed)
 * followed by the text (a key, a username, JSON) or the error message. Exceptions never cross
 * back into Rust from here.
 */
final class DirectoryAdapter {
    /** Upcalls answered by every adapter of this class loader: what the shim's benchmark counts. */
    static final java.util.concurrent.atomic.LongAdder CROSSINGS = new java.util.concurrent.atomic.LongAdder();

    private final Directory directory;

    DirectoryAdapter(Directory directory) {
        this.directory = directory;
    }

    String invoke(String op, String a, String b, String c, String d, String e) {
        CROSSINGS.increment();
        try {
            switch (op) {
                // Nobody found is an answer, not a failure: a look-up of a new user (a login, a
                // partial run) costs no exception, whose stack trace was most of such a call.
                case "find_user":
                    return found(directory.findUser(a), "no user ", a);
                case "find_by_external_id":
                    return found(directory.findByExternalId(a), "no user with external id ", a);
                default:
                    return "0" + dispatch(op, a, b, c, d, e);
            }
        } catch (DirectoryException ex) {
            return ex.kind().code + message(ex);
        } catch (RuntimeException ex) {
            return DirectoryException.Kind.FAILED.code + message(ex);
        }
    }

    private static String found(DirectoryUser u, String nobody, String asked) {
        return u == null ? DirectoryException.Kind.NOT_FOUND.code + nobody + asked : "0" + user(u);
    }

    private static String message(RuntimeException ex) {
        String m = ex.getMessage();
        return ex.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private String dispatch(String op, String a, String b, String c, String d, String e) {
        switch (op) {
            case "capabilities": {
                Capabilities caps = directory.capabilities();
                if (caps == null) {
                    throw new DirectoryException(DirectoryException.Kind.FAILED, "capabilities() returned null");
                }
                return "{\"properties\":" + caps.properties() + ",\"profile_fields\":" + Json.array(caps.profileFields())
                        + ",\"communardo\":" + caps.communardo() + ",\"linchpin\":" + caps.linchpin()
                        + ",\"jsm_organizations\":" + caps.jsmOrganizations() + ",\"avatars\":" + caps.avatars()
                        + ",\"create_groups\":" + caps.createGroups() + "}";
            }
            case "list_users":
                return users(directory.listUsers());
            case "users_by_keys":
                // One key per line: keys never hold a line break.
                return users(directory.usersByKeys(a.isEmpty() ? List.of() : List.of(a.split("\n"))));
            case "begin_batch":
                directory.beginBatch();
                return "";
            case "end_batch":
                directory.endBatch();
                return "";
            case "set_avatar":
                directory.setAvatar(a, Base64.getDecoder().decode(b));
                return "";
            case "list_groups":
                return Json.array(directory.listGroups());
            case "create_user":
                return answered(directory.createUser(a, b, c, Boolean.parseBoolean(d), e), "createUser", a);
            case "update_core":
                directory.updateCore(a, b, c);
                return "";
            case "rename":
                directory.rename(a, b);
                return "";
            case "set_active":
                directory.setActive(a, Boolean.parseBoolean(b));
                return "";
            case "delete_user":
                directory.deleteUser(a);
                return "";
            case "anonymise":
                return answered(directory.anonymise(a), "anonymise", a);
            case "set_field":
                directory.setField(a, b, c);
                return "";
            case "add_membership":
                directory.addMembership(a, b);
                return "";
            case "remove_membership":
                directory.removeMembership(a, b);
                return "";
            case "write_fields":
                return writeFields(a, b);
            case "create_group":
                directory.createGroup(a);
                return "";
            case "try_lock":
                return Boolean.toString(directory.tryLock(a, Long.parseLong(b)));
            case "unlock":
                directory.unlock(a);
                return "";
            default:
                throw new DirectoryException(DirectoryException.Kind.UNSUPPORTED, "unknown operation " + op);
        }
    }

    /**
     * Several field and membership writes to user {@code key} in one call: a line each,
     * {@code S<tab>target<tab>value}, {@code C<tab>target} (clear), {@code A<tab>group} or
     * {@code R<tab>group}, fields escaped. Each write is made as its own call would make it; the
     * answer is a line each, {@code 0} or the status digit and message of that write's failure.
     */
    private String writeFields(String key, String lines) {
        StringBuilder out = new StringBuilder();
        for (String line : lines.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            String result;
            try {
                String name = f.length > 1 ? unescape(f[1]) : "";
                switch (f[0]) {
                    case "S" -> directory.setField(key, name, f.length > 2 ? unescape(f[2]) : "");
                    case "C" -> directory.setField(key, name, null);
                    case "A" -> directory.addMembership(key, name);
                    case "R" -> directory.removeMembership(key, name);
                    default -> throw new DirectoryException(DirectoryException.Kind.UNSUPPORTED,
                            "unknown write " + f[0]);
                }
                result = "0";
            } catch (DirectoryException ex) {
                result = ex.kind().code + message(ex);
            } catch (RuntimeException ex) {
                result = DirectoryException.Kind.FAILED.code + message(ex);
            }
            escapeInto(out, result);
            out.append('\n');
        }
        return out.toString();
    }

    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                b.append(c);
                continue;
            }
            char n = s.charAt(++i);
            b.append(n == 't' ? '\t' : n == 'n' ? '\n' : n == 'r' ? '\r' : n);
        }
        return b.toString();
    }

    private static void escapeInto(StringBuilder out, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                default -> out.append(c);
            }
        }
    }

    /** A key or username the directory must answer: null or empty is its failure, not a name. */
    private static String answered(String value, String method, String who) {
        if (value == null || value.isEmpty()) {
            throw new DirectoryException(DirectoryException.Kind.FAILED, method + "(" + who + ") returned no value");
        }
        return value;
    }

    private static String users(List<DirectoryUser> users) {
        StringBuilder b = new StringBuilder("[");
        for (DirectoryUser u : users) {
            if (b.length() > 1) {
                b.append(',');
            }
            b.append(user(u));
        }
        return b.append(']').toString();
    }

    private static String user(DirectoryUser u) {
        return "{\"key\":" + Json.quote(u.key()) + ",\"username\":" + Json.quote(u.username())
                + ",\"active\":" + u.active() + ",\"values\":" + Json.object(u.values())
                + ",\"groups\":" + Json.array(u.groups()) + ",\"external_id\":" + Json.quote(u.externalId())
                + instant("last_login", u.lastLogin()) + instant("created_at", u.createdAt())
                + (u.admin() ? ",\"admin\":true" : "") + "}";
    }

    /** An RFC 3339 time in UTC (Instant's own form), left out when unknown. */
    private static String instant(String name, java.time.Instant at) {
        return at == null ? "" : ",\"" + name + "\":" + Json.quote(at.toString());
    }
}
