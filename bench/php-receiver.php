<?php
// SPDX-License-Identifier: ISC
// bench/php-receiver.php: the webhook receiver a user would write by hand, for
// bench/run.sh's php part, run by Debian's php-fpm behind the same nginx: it checks the
// bearer token, appends the body as one line to a file under flock, and answers 200 once
// fsync has returned. No JSON checks, no dedup, no chain. The pool's env[] gives
// BENCH_TOKEN and BENCH_LOG (bench/lib.sh php_start).

function answer(int $status, string $word): void
{
	http_response_code($status);
	header('Content-Type: application/json');
	echo '{"status":"' . $word . '"}';
}

$token = getenv('BENCH_TOKEN');
if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
	answer(405, 'method not allowed');
	exit;
}
if ($token === false || !hash_equals('Bearer ' . $token, $_SERVER['HTTP_AUTHORIZATION'] ?? '')) {
	answer(401, 'unauthorized');
	exit;
}
$body = file_get_contents('php://input');
$log = fopen(getenv('BENCH_LOG'), 'ab');
if ($body === false || $log === false) {
	answer(503, 'unavailable');
	exit;
}
$line = str_replace(["\r", "\n"], ' ', $body) . "\n";
$stored = flock($log, LOCK_EX) && fwrite($log, $line) === strlen($line) && fflush($log) &&
    fsync($log);
flock($log, LOCK_UN);
fclose($log);
if (!$stored) {
	answer(503, 'unavailable');
	exit;
}
answer(200, 'stored');
