<?php
/*
 * Authentication sources of podauth's test IdP: fixed test users, nothing
 * else. The `uid` attribute becomes the NameID (see saml20-idp-hosted.php).
 *
 * "refused" logs in like the others, then the IdP refuses it (an authproc
 * filter in saml20-idp-hosted.php) and POSTs a Responder/RequestDenied
 * Response to the SP: the suite's "user said no" path.
 */

$config = [
    'admin' => ['core:AdminPassword'],

    'test-users' => [
        'exampleauth:UserPass',
        'alice:alice-password' => ['uid' => ['alice'], 'mail' => ['alice@pod.test']],
        'bob:bob-password' => ['uid' => ['bob'], 'mail' => ['bob@pod.test']],
        'refused:refused-password' => ['uid' => ['refused']],
    ],
];
