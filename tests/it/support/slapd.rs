//! A real OpenLDAP server (Debian's `slapd`) on 127.0.0.1, with TLS (a CA and a server
//! certificate made by `openssl` for the test), a size limit of 500 entries per search so that
//! only paged searches (RFC 2696) read everything, and a generated directory loaded with
//! `slapadd`. Active Directory's attributes that slapd cannot produce (`objectGUID`,
//! `userAccountControl`, `sAMAccountName`) come from a test schema under the documentation
//! enterprise number 32473 (RFC 5612). Stopped with the value.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;

pub const SUFFIX: &str = "dc=example,dc=test";
pub const READER: &str = "cn=reader,dc=example,dc=test";
pub const READER_PASSWORD: &str = "reader-bind-pw-31";
pub const ROOT: &str = "cn=admin,dc=example,dc=test";
pub const ROOT_PASSWORD: &str = "root-pw-of-the-test";

const AD_SCHEMA: &str = "
attributetype ( 1.3.6.1.4.1.32473.1.1.1 NAME 'objectGUID' EQUALITY octetStringMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.32473.1.1.2 NAME 'userAccountControl' EQUALITY integerMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.32473.1.1.3 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.32473.1.1.4 NAME 'uSNChanged' EQUALITY integerMatch
  ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.32473.1.2.1 NAME 'adUser' AUXILIARY
  MAY ( objectGUID $ userAccountControl $ sAMAccountName $ uSNChanged ) )
";

pub struct Slapd {
    child: Child,
    tls_port: u16,
    plain_port: u16,
    pub dir: tempfile::TempDir,
    /// `ldaps://127.0.0.1:<port>`
    pub ldaps: String,
    /// `ldap://127.0.0.1:<port>` (StartTLS)
    pub ldap: String,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn need(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: the LDAP tests need Debian's {package} (apt-get install {package}; scripts/test.sh installs it as root)"
    );
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The 16 `objectGUID` bytes of user `i` (distinct, and mostly not UTF-8).
pub fn guid(i: usize) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(0xF0E1_D2C3_0000_0000u64 + i as u64).to_le_bytes());
    b[8..].copy_from_slice(&(0x8899_AABB_CCDD_EEFFu64 ^ i as u64).to_be_bytes());
    b
}

/// The directory: `users` people (every 50th disabled, user00000 the manager of the next 99),
/// groups engineering (users 0..100, and platform nested in it), platform (100..120), staff
/// (every user) and the posixGroup devs (memberUid user00001..user00010).
fn ldif(users: usize) -> String {
    let mut s = String::new();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    writeln!(s, "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n").unwrap();
    writeln!(s, "dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n").unwrap();
    writeln!(s, "dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n").unwrap();
    writeln!(s, "dn: {READER}\nobjectClass: simpleSecurityObject\nobjectClass: organizationalRole\ncn: reader\nuserPassword: {READER_PASSWORD}\n").unwrap();
    let dn = |i: usize| format!("uid=user{i:05},ou=people,{SUFFIX}");
    for i in 0..users {
        writeln!(
            s,
            "dn: {}\nobjectClass: inetOrgPerson\nobjectClass: adUser\nuid: user{i:05}\ncn: User {i}\nsn: Number{i}\ngivenName: User\nmail: user{i}@example.test\ntitle: {}\ndepartmentNumber: D{}\nemployeeNumber: E{i}\nsAMAccountName: user{i:05}\nuserAccountControl: {}\nuSNChanged: {}\nobjectGUID:: {}",
            dn(i),
            if i < 100 { "Lead" } else { "Engineer" },
            i % 9,
            if i % 50 == 49 { 514 } else { 512 },
            1000 + i,
            b64(&guid(i))
        )
        .unwrap();
        if (1..100).contains(&i) {
            writeln!(s, "manager: {}", dn(0)).unwrap();
        }
        s.push('\n');
    }
    let group = |s: &mut String, name: &str, members: Vec<String>| {
        writeln!(s, "dn: cn={name},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: {name}").unwrap();
        for m in members {
            writeln!(s, "member: {m}").unwrap();
        }
        s.push('\n');
    };
    let mut eng: Vec<String> = (0..100.min(users)).map(dn).collect();
    eng.push(format!("cn=platform,ou=groups,{SUFFIX}"));
    group(&mut s, "engineering", eng);
    // groupOfNames needs a member: a small directory's platform holds user00000.
    let platform: Vec<String> = if users > 100 { (100..120.min(users)).map(dn).collect() } else { vec![dn(0)] };
    group(&mut s, "platform", platform);
    group(&mut s, "staff", (0..users).map(dn).collect());
    writeln!(s, "dn: cn=devs,ou=groups,{SUFFIX}\nobjectClass: posixGroup\ncn: devs\ngidNumber: 5000").unwrap();
    for i in 1..=10 {
        writeln!(s, "memberUid: user{i:05}").unwrap();
    }
    s.push('\n');
    s
}

/// slapd in the foreground on both ports, once it listens.
fn spawn(d: &Path, tls: u16, plain: u16) -> Child {
    let conf = d.join("slapd.conf").display().to_string();
    let log = std::fs::File::create(d.join("slapd.log")).unwrap();
    let urls = format!("ldaps://127.0.0.1:{tls}/ ldap://127.0.0.1:{plain}/");
    let child = Command::new("/usr/sbin/slapd")
        .args(["-f", &conf, "-h", &urls, "-d", "0"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("slapd starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", tls)).is_err() {
        assert!(
            Instant::now() < deadline,
            "slapd did not listen: {}",
            std::fs::read_to_string(d.join("slapd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

impl Slapd {
    pub fn start(users: usize) -> Slapd {
        need("/usr/sbin/slapd", "slapd");
        need("/usr/sbin/slapadd", "slapd");
        need("/usr/bin/openssl", "openssl");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let p = |name: &str| d.join(name).display().to_string();
        // A CA and a server certificate for 127.0.0.1 signed by it.
        run(Command::new("openssl").args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=usersync test LDAP CA",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.pem"),
        ]));
        run(Command::new("openssl").args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            &p("server.key"),
            "-out",
            &p("server.csr"),
        ]));
        std::fs::write(
            d.join("ext.cnf"),
            "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        run(Command::new("openssl").args([
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            &p("server.csr"),
            "-CA",
            &p("ca.pem"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-extfile",
            &p("ext.cnf"),
            "-out",
            &p("server.pem"),
        ]));
        std::fs::write(d.join("ad.schema"), AD_SCHEMA).unwrap();
        std::fs::create_dir_all(d.join("db")).unwrap();
        let conf = format!(
            "include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\ninclude /etc/ldap/schema/inetorgperson.schema\ninclude /etc/ldap/schema/nis.schema\ninclude {ad}\npidfile {pid}\nargsfile {args}\nmodulepath /usr/lib/ldap\nmoduleload back_mdb.la\nTLSCACertificateFile {ca}\nTLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\nsizelimit size.soft=500 size.hard=500 size.prtotal=unlimited\ndatabase mdb\nmaxsize 1073741824\nsuffix \"{SUFFIX}\"\nrootdn \"cn=admin,{SUFFIX}\"\nrootpw {ROOT_PASSWORD}\ndirectory {db}\nindex objectClass eq\naccess to attrs=userPassword by anonymous auth by * none\naccess to * by dn.exact=\"{READER}\" read by * none\n",
            ad = p("ad.schema"), pid = p("slapd.pid"), args = p("slapd.args"), ca = p("ca.pem"), cert = p("server.pem"),
            key = p("server.key"), db = p("db")
        );
        std::fs::write(d.join("slapd.conf"), conf).unwrap();
        std::fs::write(d.join("data.ldif"), ldif(users)).unwrap();
        run(Command::new("/usr/sbin/slapadd").args(["-q", "-f", &p("slapd.conf"), "-l", &p("data.ldif")]));
        let (tls, plain) = (port(), port());
        let (ldaps, ldap) = (format!("ldaps://127.0.0.1:{tls}"), format!("ldap://127.0.0.1:{plain}"));
        let child = spawn(d, tls, plain);
        Slapd { child, tls_port: tls, plain_port: plain, dir, ldaps, ldap }
    }

    /// Restarts the server with a total of at most `total` entries per paged search, as a
    /// server's administrative limit would (`size.prtotal`): a listing that stops part way.
    pub fn restart_with_paged_total(&mut self, total: u32) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let d = self.dir.path();
        let conf = std::fs::read_to_string(d.join("slapd.conf")).unwrap();
        let conf = conf.replace("size.prtotal=unlimited", &format!("size.prtotal={total}"));
        std::fs::write(d.join("slapd.conf"), conf).unwrap();
        self.child = spawn(d, self.tls_port, self.plain_port);
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }
}
