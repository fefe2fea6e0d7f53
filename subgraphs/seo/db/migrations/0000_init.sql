CREATE SCHEMA IF NOT EXISTS "seo";
--> statement-breakpoint
CREATE TABLE "seo"."pages" (
	"listing_id" uuid PRIMARY KEY NOT NULL,
	"status" varchar(16) NOT NULL,
	"url" text NOT NULL,
	"content" jsonb NOT NULL,
	"content_hash" varchar(64) NOT NULL,
	"content_changed_at" timestamp (3) with time zone NOT NULL,
	"source_updated_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "seo"."processed_events" (
	"consumer" varchar(100) NOT NULL,
	"event_id" uuid NOT NULL,
	"processed_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "processed_events_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE INDEX "pages_status_listing_idx" ON "seo"."pages" USING btree ("status","listing_id");