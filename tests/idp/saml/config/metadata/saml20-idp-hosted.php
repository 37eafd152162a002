<?php
/*
 * Hosted IdP of podauth's test IdP. The entity id, key and certificate come
 * from params.php, written by start-idp.sh (key pair generated per run).
 */

$p = require __DIR__ . '/../params.php';

$metadata[$p['entity_id']] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp-test.key',
    'certificate' => 'idp-test.crt',
    'auth' => 'test-users',

    // Sign both the Response and the Assertion, RSA-SHA256. Error responses
    // (non-Success status) are signed as well.
    'saml20.sign.response' => true,
    'saml20.sign.assertion' => true,
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',

    // NameID = the user name (attribute uid), format "unspecified".
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    'simplesaml.nameidattribute' => 'uid',
    'userid.attribute' => 'uid',
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',

    'authproc' => [
        // The test user "refused" authenticates but is denied: the IdP
        // answers the SP with a signed Responder/RequestDenied Response.
        10 => [
            'class' => 'core:PHP',
            'code' => '
                if (isset($attributes["uid"][0]) && $attributes["uid"][0] === "refused") {
                    \SimpleSAML\Auth\State::throwException(
                        $state,
                        new \SimpleSAML\Module\saml\Error(
                            \SAML2\Constants::STATUS_RESPONDER,
                            \SAML2\Constants::STATUS_REQUEST_DENIED,
                            "The test IdP refuses user refused."
                        )
                    );
                }
            ',
        ],
    ],
];
