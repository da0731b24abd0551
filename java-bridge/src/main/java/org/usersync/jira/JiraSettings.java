package org.usersync.jira;

/**
 * How the app writes to Jira: the user directory new users are created in (null: Jira's default
 * directory, and every directory is listed), the administrator the writes are made as (Jira's
 * UserService checks that user's permission), and whether Jira e-mails new users (off unless the
 * configuration says so).
 */
public record JiraSettings(Long directoryId, String actingUsername, boolean sendNotification) {}
