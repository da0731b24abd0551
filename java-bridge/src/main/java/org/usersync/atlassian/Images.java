package org.usersync.atlassian;

/** What the applications' avatar APIs need to be told about an image: its content type. */
public final class Images {
    private Images() {}

    /** "image/png" or "image/jpeg" from the first bytes; null for anything else. */
    public static String contentType(byte[] image) {
        if (image.length >= 8 && (image[0] & 0xff) == 0x89 && image[1] == 'P' && image[2] == 'N' && image[3] == 'G') {
            return "image/png";
        }
        if (image.length >= 3 && (image[0] & 0xff) == 0xff && (image[1] & 0xff) == 0xd8 && (image[2] & 0xff) == 0xff) {
            return "image/jpeg";
        }
        return null;
    }

    /** The file name an avatar is stored under. */
    public static String fileName(String contentType) {
        return "usersync-avatar" + ("image/png".equals(contentType) ? ".png" : ".jpg");
    }
}
