<?php
/*
 * SimpleSAMLphp 1.19 main configuration for podauth's throwaway test IdP.
 *
 * start-idp.sh copies this file into a fresh config directory and writes
 * params.php next to it; every per-run value (port, paths, secrets) comes
 * from there. Nothing here is meant for a real deployment.
 */

$p = require __DIR__ . '/params.php';

$config = [
    // Absolute base URL: every URL SimpleSAMLphp generates (login page, form
    // actions, metadata) points back at the built-in PHP server.
    'baseurlpath' => $p['base_url'],

    'certdir' => $p['state_dir'] . '/cert/',
    'loggingdir' => $p['state_dir'] . '/log/',
    'datadir' => $p['state_dir'] . '/data/',
    'tempdir' => $p['state_dir'] . '/tmp',
    'metadatadir' => __DIR__ . '/metadata/',
    'metadata.sources' => [
        ['type' => 'flatfile', 'directory' => __DIR__ . '/metadata/'],
    ],

    'secretsalt' => $p['secret_salt'],
    'auth.adminpassword' => $p['admin_password'],
    'admin.protectindexpage' => false,
    'admin.protectmetadata' => false,
    'admin.checkforupdates' => false,
    'technicalcontact_name' => 'podauth test suite',
    'technicalcontact_email' => 'nobody@pod.test',
    'timezone' => 'UTC',

    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'enable.adfs-idp' => false,
    'module.enable' => [
        'core' => true,
        'saml' => true,
        'exampleauth' => true,
        'admin' => true,
    ],

    'logging.handler' => $p['log_to_stderr'] ? 'stderr' : 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'logging.level' => SimpleSAML\Logger::INFO,
    'logging.processname' => 'saml-test-idp',
    'statistics.out' => [],
    'showerrors' => true,
    'errorreporting' => false,
    'debug' => ['saml' => false, 'backtraces' => true, 'validatexml' => false],
    'production' => true,
    'usenewui' => false,

    // Sessions: PHP session files in the state directory. Plain http, so the
    // cookies must not be Secure. Cookie names carry the port: browsers share
    // cookies between ports of one host, and two IdPs on 127.0.0.1 must not
    // see each other's sessions.
    'store.type' => 'phpsession',
    'session.phpsession.savepath' => $p['state_dir'] . '/sessions',
    'session.phpsession.cookiename' => 'SimpleSAML' . $p['port'],
    'session.phpsession.httponly' => true,
    'session.cookie.name' => 'SimpleSAMLSessionID' . $p['port'],
    'session.authtoken.cookiename' => 'SimpleSAMLAuthToken' . $p['port'],
    'session.cookie.secure' => false,
    'session.cookie.samesite' => 'Lax',
    'session.cookie.path' => '/',
    'session.cookie.domain' => null,
    'session.cookie.lifetime' => 0,
    'session.duration' => 8 * 60 * 60,
    'session.rememberme.enable' => false,

    'language.default' => 'en',
    'language.available' => ['en'],
    'language.cookie.secure' => false,
    'language.cookie.samesite' => 'Lax',
    'language.cookie.name' => 'language' . $p['port'],

    'trusted.url.domains' => [],
    'enable.http_post' => false,
    'assertion.allowed_clock_skew' => 180,
    'theme.use' => 'default',
];
