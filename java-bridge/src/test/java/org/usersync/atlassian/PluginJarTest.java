package org.usersync.atlassian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The plugin jars as they ship: a well-formed descriptor whose every usersync class is in the jar
 * and can be built from what the descriptor imports, no Atlassian class (stub) inside, the
 * native library inside, and the version of Cargo.toml.
 */
class PluginJarTest {
    static final Path REPO = Path.of(System.getProperty("usersync.repo", "."));

    @Test
    void theJiraJar() throws Exception {
        check("jira", "confluence");
    }

    @Test
    void theConfluenceJar() throws Exception {
        check("confluence", "jira");
    }

    static String cargoVersion() throws Exception {
        Matcher m = Pattern.compile("(?m)^version = \"([^\"]+)\"").matcher(Files.readString(REPO.resolve("Cargo.toml")));
        assertTrue(m.find());
        return m.group(1);
    }

    void check(String app, String otherApp) throws Exception {
        Path jar = Path.of(System.getProperty("usersync." + app + "Jar"));
        assertTrue(jar.getFileName().toString().equals("usersync-" + app + "-" + cargoVersion() + ".jar"), jar.toString());
        Set<String> entries = new HashSet<>();
        Document descriptor;
        Properties i18n = new Properties();
        try (JarFile jf = new JarFile(jar.toFile())) {
            for (JarEntry e : java.util.Collections.list(jf.entries())) {
                entries.add(e.getName());
            }
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            try (InputStream in = jf.getInputStream(jf.getEntry("atlassian-plugin.xml"))) {
                descriptor = f.newDocumentBuilder().parse(in);
            }
            try (InputStream in = jf.getInputStream(jf.getEntry("usersync.properties"))) {
                i18n.load(in);
            }
        }
        assertTrue(entries.contains("native/linux-x86-64/libusersync.so"), "the native library");
        for (String e : entries) {
            assertFalse(e.startsWith("com/") || e.startsWith("javax/") || e.startsWith("org/slf4j/"),
                    "a stub or provided class is in the jar: " + e);
            assertFalse(e.startsWith("org/usersync/" + otherApp + "/"), "the other application's classes: " + e);
        }
        Element root = descriptor.getDocumentElement();
        assertEquals("atlassian-plugin", root.getTagName());
        assertEquals("org.usersync." + app, root.getAttribute("key"));
        assertEquals("2", root.getAttribute("plugins-version"));
        assertEquals(cargoVersion(), text(root, "version"));

        Set<String> imported = new HashSet<>();
        for (Element e : elements(root, "component-import")) {
            imported.add(e.getAttribute("interface"));
        }
        List<String> named = new ArrayList<>();
        for (String tag : List.of("component", "servlet", "servlet-filter", "condition")) {
            for (Element e : elements(root, tag)) {
                named.add(e.getAttribute("class"));
            }
        }
        named.addAll(imported);
        for (String tag : List.of("interface", "entity")) {
            for (Element e : elements(root, tag)) {
                named.add(e.getTextContent().trim());
            }
        }
        assertEquals(1, elements(root, "entity").size(), "the state table is declared for Active Objects");
        for (String name : named) {
            assertFalse(name.isEmpty());
            if (name.startsWith("org.usersync.")) {
                assertTrue(entries.contains(name.replace('.', '/') + ".class"), name + " is named but not in the jar");
            } else {
                assertTrue(name.startsWith("com.atlassian."), name + " is neither ours nor the application's");
            }
        }
        for (Element e : elements(root, "label")) {
            assertTrue(i18n.containsKey(e.getAttribute("key")), "no text for " + e.getAttribute("key"));
        }
        String servletPath = text(root, "url-pattern");
        assertEquals("/plugins/servlet" + servletPath + "/", text(root, "link"), "the admin link reaches the servlet");
        for (String asset : List.of("index.html", "app.js", "app.css")) {
            assertTrue(entries.contains("admin-page/" + asset), "the console page's " + asset);
        }
        Element filter = elements(root, "servlet-filter").get(0);
        assertEquals("before-login", filter.getAttribute("location"));

        // Every class the plugin framework builds can be built from what is imported or declared.
        Path stubs = Path.of(System.getProperty("usersync.stubs"));
        URL[] path = {jar.toUri().toURL(), stubs.toUri().toURL(), Path.of("/usr/share/java/servlet-api.jar").toUri().toURL(),
                Path.of("/usr/share/java/slf4j-api.jar").toUri().toURL()};
        try (URLClassLoader loader = new URLClassLoader(path, ClassLoader.getPlatformClassLoader())) {
            List<Class<?>> components = new ArrayList<>();
            for (Element e : elements(root, "component")) {
                components.add(loader.loadClass(e.getAttribute("class")));
            }
            for (String tag : List.of("component", "servlet", "servlet-filter")) {
                for (Element e : elements(root, tag)) {
                    Class<?> c = loader.loadClass(e.getAttribute("class"));
                    Constructor<?>[] ctors = c.getConstructors();
                    assertEquals(1, ctors.length, c + " needs exactly one public constructor");
                    for (Class<?> p : ctors[0].getParameterTypes()) {
                        boolean ok = imported.contains(p.getName())
                                || components.stream().anyMatch(p::isAssignableFrom);
                        assertTrue(ok, c.getSimpleName() + " takes a " + p.getName() + " that nothing provides");
                    }
                }
            }
        }
    }

    static List<Element> elements(Element root, String tag) {
        NodeList list = root.getElementsByTagName(tag);
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < list.getLength(); i++) {
            out.add((Element) list.item(i));
        }
        return out;
    }

    static String text(Element root, String tag) {
        return elements(root, tag).get(0).getTextContent().trim();
    }
}
