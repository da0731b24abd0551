// Compile-only signature stub: never packaged, Jira Service Management provides the real type at run time.
// Written from the Jira Service Management 5.12 (with Jira 9.12) Java API reference, https://docs.atlassian.com/jira-servicedesk/5.12.17/com/atlassian/servicedesk/api/util/paging/LimitedPagedRequest.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.servicedesk.api.util.paging;

public interface LimitedPagedRequest extends PagedRequest {}
