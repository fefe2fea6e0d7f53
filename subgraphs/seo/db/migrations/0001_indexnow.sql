CREATE TABLE "seo"."indexnow_hosts" (
	"host" varchar(255) PRIMARY KEY NOT NULL,
	"not_before" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "seo"."indexnow_urls" (
	"listing_id" uuid PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"host" varchar(255) NOT NULL,
	"status" varchar(10) NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone NOT NULL,
	"queued_at" timestamp (3) with time zone NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"claimed_until" timestamp (3) with time zone,
	"last_submitted_at" timestamp (3) with time zone,
	"last_submitted_url" text,
	"last_error" varchar(500),
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "seo"."pages" ADD COLUMN "seller_id" uuid;--> statement-breakpoint
CREATE INDEX "indexnow_urls_due_idx" ON "seo"."indexnow_urls" USING btree ("next_attempt_at") WHERE "seo"."indexnow_urls"."status" in ('PENDING', 'RETRYING');--> statement-breakpoint
CREATE INDEX "indexnow_urls_host_idx" ON "seo"."indexnow_urls" USING btree ("host","queued_at") WHERE "seo"."indexnow_urls"."status" in ('PENDING', 'RETRYING');