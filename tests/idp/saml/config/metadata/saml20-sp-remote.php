<?php
/*
 * Remote SPs known to podauth's test IdP: one entry per SP entity id, every
 * entry accepting every ACS URL given to start-idp.sh (HTTP-POST binding).
 * SimpleSAMLphp compares AssertionConsumerServiceURL with these exactly.
 */

$p = require __DIR__ . '/../params.php';

foreach ($p['sp_entity_ids'] as $spEntityId) {
    $acs = [];
    foreach ($p['acs_urls'] as $i => $url) {
        $acs[] = [
            'Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
            'Location' => $url,
            'index' => $i,
        ];
    }
    $metadata[$spEntityId] = [
        'AssertionConsumerService' => $acs,
        'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
        'simplesaml.nameidattribute' => 'uid',
        'simplesaml.attributes' => true,
        'validate.authnrequest' => false,
        'saml20.sign.response' => true,
        'saml20.sign.assertion' => true,
    ];
}
