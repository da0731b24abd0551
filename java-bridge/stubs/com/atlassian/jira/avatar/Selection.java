// Compile-only signature stub: never packaged, Jira provides the real type at run time.
// Written from the Jira 9.12 Java API reference, https://docs.atlassian.com/software/jira/docs/api/9.12.0/com/atlassian/jira/avatar/Selection.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.avatar;

/** A value class in Jira: the square of an image to crop to (null crops nothing). */
public class Selection {
    private final int topLeftX;
    private final int topLeftY;
    private final int width;
    private final int height;

    public Selection(int topLeftX, int topLeftY, int width, int height) {
        this.topLeftX = topLeftX;
        this.topLeftY = topLeftY;
        this.width = width;
        this.height = height;
    }

    public int getTopLeftX() { return topLeftX; }

    public int getTopLeftY() { return topLeftY; }

    public int getWidth() { return width; }

    public int getHeight() { return height; }
}
