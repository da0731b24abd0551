package org.usersync;

/**
 * A directory operation failed. Thrown by {@link Directory} implementations (with a kind) for
 * one operation of one user, and by the engine when the directory fails outside a per-user
 * operation (listing, locking).
 */
public class DirectoryException extends UsersyncException {
    private static final long serialVersionUID = 1L;

    /** How it failed; the numbers are the wire codes of {@code UsersyncDirResult}. */
    public enum Kind {
        NOT_FOUND(1), CONFLICT(2), UNSUPPORTED(3), FAILED(4);

        final int code;

        Kind(int code) {
            this.code = code;
        }
    }

    private final Kind kind;

    public DirectoryException(String message) {
        this(Kind.FAILED, message);
    }

    public DirectoryException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
