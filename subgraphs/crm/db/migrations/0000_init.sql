CREATE SCHEMA IF NOT EXISTS "crm";
--> statement-breakpoint
CREATE TABLE "crm"."contacts" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"hubspot_id" varchar(64),
	"sync_status" varchar(10) NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone NOT NULL,
	"last_synced_at" timestamp (3) with time zone,
	"last_error" varchar(500),
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "crm"."processed_events" (
	"consumer" varchar(100) NOT NULL,
	"event_id" uuid NOT NULL,
	"processed_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "processed_events_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE INDEX "contacts_due_idx" ON "crm"."contacts" USING btree ("next_attempt_at") WHERE "crm"."contacts"."sync_status" = 'PENDING';